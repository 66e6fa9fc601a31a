# programs.ai-commit: the commit-message writer for a workstation. Installs the package,
# writes the system-wide config /etc/xdg/ai-commit/config.toml (read by every user who has no
# ~/.config/ai-commit/config.toml), points it at the local Ollama when services.ollama is on,
# and optionally offers the prepare-commit-msg hook to every repository.
{ config
, lib
, pkgs
, ...
}:
let
  inherit (lib)
    mkEnableOption
    mkOption
    mkIf
    mkMerge
    mkDefault
    types
    literalExpression
    ;
  hbLib = import ./lib.nix { inherit lib pkgs; };
  cfg = config.programs.ai-commit;
  ollama = config.services.ollama;
  settingsFormat = pkgs.formats.toml { };
  rendered = lib.filterAttrsRecursive (_: v: v != null) cfg.settings;

  # Ollama's listen address as a client URL: a wildcard address means this machine.
  ollamaHost =
    let
      h = ollama.host or "127.0.0.1";
    in
    if h == "0.0.0.0" || h == "" then "127.0.0.1"
    else if h == "::" then "[::1]"
    else if lib.hasInfix ":" h then "[${h}]"
    else h;
  ollamaUrl = "http://${ollamaHost}:${toString (ollama.port or 11434)}";

  # Checked at build time with ai-commit's own loader (`--print-config` loads and validates
  # the file, then prints it; it contacts no server and reads no API key).
  configFile =
    pkgs.runCommand "ai-commit-config.toml"
      {
        nativeBuildInputs = [ cfg.package ];
        raw = settingsFormat.generate "ai-commit-config-unchecked.toml" rendered;
      }
      ''
        HOME=$TMPDIR AI_COMMIT_CONFIG="$raw" ai-commit --print-config > /dev/null
        cp "$raw" "$out"
      '';

  # A git template folder whose hooks/ holds the hook `ai-commit hook install` writes (same
  # marker line, so `ai-commit hook install` in a repository recognises and replaces it).
  gitTemplate = pkgs.writeTextFile {
    name = "ai-commit-git-template";
    destination = "/hooks/prepare-commit-msg";
    executable = true;
    text = ''
      #!/bin/sh
      # installed by ai-commit hook install
      # Installed for every repository by NixOS (programs.ai-commit.gitHook). Fills in the
      # commit message from the configured LLM when none was given; never blocks a commit.
      exe='${lib.getExe' cfg.package "ai-commit"}'
      [ -x "$exe" ] || exe=ai-commit
      "$exe" hook run "$@" || true
      exit 0
    '';
  };
in
{
  options.programs.ai-commit = {
    enable = mkEnableOption "ai-commit, git commit messages from a local LLM (with a fallback that never commits an error text)";

    package = hbLib.packageOption "ai-commit" "The ai-commit package (wrapped with git).";

    settings = mkOption {
      description = ''
        The system-wide ai-commit configuration, written to `/etc/xdg/ai-commit/config.toml`
        (see docs/ai-commit.md for every key). Keys not declared below are passed through;
        ai-commit rejects unknown keys, and the file is checked at build time with
        `ai-commit --print-config`. A user's own `~/.config/ai-commit/config.toml` replaces
        this file as a whole; environment variables and flags override single keys.
      '';
      default = { };
      example = literalExpression ''
        {
          model = "qwen2.5-coder:7b";
          conventional = true;
          exclude = [ "*.lock" "*.svg" ];
        }
      '';
      type = types.submodule {
        freeformType = settingsFormat.type;
        options = {
          provider = mkOption {
            type = types.nullOr (types.enum [
              "ollama"
              "openai"
            ]);
            default = null;
            description = "Wire protocol: ollama (`/api/chat`) or openai (`/v1/chat/completions`, llama.cpp's llama-server and remote APIs); null: ollama.";
          };
          endpoint = mkOption {
            type = types.nullOr types.str;
            default = null;
            defaultText = literalExpression ''
              if config.services.ollama.enable
              then "http://''${config.services.ollama.host}:''${toString config.services.ollama.port}"
              else null
            '';
            example = "http://127.0.0.1:8080";
            description = "Server base URL; defaults to the local Ollama when `services.ollama.enable` is on (null: ai-commit's own default, OLLAMA_HOST or 127.0.0.1:11434).";
          };
          model = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "gemma3:4b";
            description = "Model name (null: ai-commit's default, gemma3:4b). With Ollama, add it to `services.ollama.loadModels` so it is there before the first commit.";
          };
          api_key_file = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/run/secrets/ai-commit-api-key";
            description = ''
              File holding the API key of a remote OpenAI-compatible server. ai-commit runs as
              the committing user, so that user must be able to read it (agenix/sops-nix:
              `owner = "alice"`, see secrets/README.md). A path string outside the Nix store.
            '';
          };
        };
      };
    };

    gitHook = mkOption {
      type = types.enum [
        "none"
        "init-template"
        "hooks-path"
      ];
      default = "none";
      description = ''
        Offer the prepare-commit-msg hook to every repository of every user, through
        /etc/gitconfig (`programs.git`):

        - `none`: nothing; users run `ai-commit hook install` per repository.
        - `init-template`: `init.templateDir`, so repositories created or cloned from now on get
          a copy of the hook; existing ones are untouched (`git init` in one adds it). Undo:
          set `none` and switch; copies already made stay until removed with
          `rm .git/hooks/prepare-commit-msg` (they start with "installed by ai-commit").
        - `hooks-path`: `core.hooksPath`, so every repository runs this hook at once, and ONLY
          hooks from here: a repository's own .git/hooks (pre-commit, ...) stop running.
          Undo: set `none` and switch; nothing was written into any repository.

        A user's or repository's own `init.templateDir` / `core.hooksPath` wins over the system one.
      '';
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        (hbLib.secretNotInStore "programs.ai-commit.settings.api_key_file" cfg.settings.api_key_file)
      ];

      programs.ai-commit.settings.endpoint = mkIf ollama.enable (mkDefault ollamaUrl);

      environment.systemPackages = [ cfg.package ];
      environment.etc."xdg/ai-commit/config.toml".source = configFile;
    }
    (mkIf (cfg.gitHook != "none") {
      programs.git = {
        enable = true;
        config =
          if cfg.gitHook == "init-template"
          then { init.templateDir = "${gitTemplate}"; }
          else { core.hooksPath = "${gitTemplate}/hooks"; };
      };
    })
  ]);
}
