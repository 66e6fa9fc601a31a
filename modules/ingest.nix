# honeybot-ingest: follows nginx access logs into HoneyDB (Type=notify, watchdog, hardened).
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
    types
    literalExpression
    optional
    ;
  hbLib = import ./lib.nix { inherit lib pkgs; };
  cfg = config.services.honeybot.ingest;
  hb = config.services.honeybot;
  settingsFormat = pkgs.formats.toml { };
  dbDir = dirOf cfg.settings.db;

  ipKey = hbLib.credential "honeybot-ingest.service" "ip-hash-key" cfg.ipHashKeyFile;

  # Nulls dropped: the daemon rejects unknown keys and keeps its own defaults.
  renderedSettings = lib.filterAttrsRecursive (_: v: v != null) (
    cfg.settings // lib.optionalAttrs (cfg.ipHashKeyFile != null) { ip_hash_key_file = ipKey.path; }
  );

  # Validated at build time, so a bad config fails nixos-rebuild, not the running service.
  configFile =
    pkgs.runCommand "honeybot-ingest.toml"
      {
        nativeBuildInputs = [ cfg.package ];
        raw = settingsFormat.generate "honeybot-ingest-unchecked.toml" renderedSettings;
      }
      ''
        honeybot-ingest --check-config --config "$raw"
        cp "$raw" "$out"
      '';
in
{
  options.services.honeybot.ingest = {
    enable = mkEnableOption "honeybot-ingest, which follows nginx access logs into HoneyDB exactly once";

    package = hbLib.packageOption "honeybot-ingest" "The honeybot-ingest package to run.";

    ipHashKeyFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/run/secrets/honeybot-ip-key";
      description = ''
        File holding the secret key for `ip_mode = "hash"`. Passed to the service with
        `LoadCredential`, so the file may be readable by root only. Give a path as a string:
        a Nix path literal would copy the secret into the world-readable Nix store.
      '';
    };

    settings = mkOption {
      description = ''
        honeybot-ingest configuration (rendered to TOML; see docs/ingest.md). Only the keys
        below exist: the daemon rejects unknown keys, and the rendered file is checked with
        `honeybot-ingest --check-config` at build time.
      '';
      default = { };
      type = types.submodule {
        options = {
          db = mkOption {
            type = types.str;
            default = hb.dbPath;
            defaultText = literalExpression "config.services.honeybot.dbPath";
            description = "HoneyDB SQLite file.";
          };
          logs = mkOption {
            type = types.listOf types.str;
            default = [ "/var/log/nginx/access.log" ];
            description = "Access logs to follow (rotation-aware).";
          };
          batch_lines = mkOption {
            type = types.nullOr types.ints.positive;
            default = null;
            example = 5000;
            description = "Lines per transaction at most (null: the daemon's default).";
          };
          flush_interval_ms = mkOption {
            type = types.nullOr types.ints.positive;
            default = null;
            example = 500;
            description = "Commit at least this often while lines arrive (null: the daemon's default).";
          };
          poll_interval_ms = mkOption {
            type = types.nullOr types.ints.positive;
            default = null;
            example = 1000;
            description = "Polling interval when inotify is unavailable (null: the daemon's default).";
          };
          timezone = mkOption {
            type = types.enum [
              "local-to-log"
              "utc"
            ];
            default = "local-to-log";
            description = "Which date a request counts for: the date as written in the log line, or its UTC date.";
          };
          ip_mode = mkOption {
            type = types.enum [
              "full"
              "truncate"
              "hash"
            ];
            default = "full";
            description = ''
              How client addresses are stored: whole, truncated (IPv4 /24, IPv6 /48) or as a keyed
              hash (needs `ipHashKeyFile`). IP addresses are personal data.
            '';
          };
          recent_requests = mkOption {
            type = types.nullOr (types.ints.between 0 10000000);
            default = null;
            example = 10000;
            description = "Rows kept in HoneyDB's ring of recent requests, read by `honeybot watch`; 0 keeps none (null: the daemon's default, 10000).";
          };
          agents = mkOption {
            type = types.nullOr types.path;
            default = null;
            example = literalExpression "./honeybot-agents.toml";
            description = ''
              Your own user-agent rules (TOML: `agent = [{ token = "...", class = "...", operator = "...", note = "..." }]`),
              taking precedence over the built-in table (docs/schema.md, Classification). Give a file
              in the Nix store (a path literal or `pkgs.writeText`): the build-time config check reads it.
              Stored classes are recomputed at the next start when the rules change.
            '';
          };
          trap_path = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/trap.js";
            description = "Path of the JavaScript trap script (null: the daemon's default, `/trap.js`).";
          };
          beacon_path = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/api/beacon";
            description = "Path of the trap's beacon; its hits are stored without the query string (null: the daemon's default, `/api/beacon`).";
          };
          log_format = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "$remote_addr - $remote_user [$time_iso8601] \"$request\" $status $body_bytes_sent";
            description = ''
              How log lines are read: `combined`, `common`, `honeybot` or `vhost` (all recognised per
              line: the daemon's default, null) or an nginx `log_format` definition. With
              `services.honeybot.nginx.enable` it defaults to the format that module makes nginx write.
            '';
          };
          rotated_names = mkOption {
            type = types.nullOr (types.listOf types.str);
            default = null;
            example = [ "{name}.*" "{name}-*" ];
            description = "Where rotated files of a log are looked for (`{name}` is the log's file name; `*` and `?` wildcards). Null: the daemon's default.";
          };
        };
      };
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = cfg.settings.logs != [ ];
          message = "services.honeybot.ingest.settings.logs is empty: name at least one access log to follow.";
        }
        {
          assertion = cfg.settings.ip_mode == "hash" -> cfg.ipHashKeyFile != null;
          message = ''services.honeybot.ingest.settings.ip_mode = "hash" needs services.honeybot.ingest.ipHashKeyFile (a file with the secret key, outside the Nix store).'';
        }
        (hbLib.secretNotInStore "services.honeybot.ingest.ipHashKeyFile" cfg.ipHashKeyFile)
        {
          assertion = lib.hasPrefix "/" cfg.settings.db;
          message = "services.honeybot.ingest.settings.db = \"${cfg.settings.db}\" is not an absolute path: give the full path of the HoneyDB file.";
        }
      ];

      # A HoneyDB outside /var/lib/honeybot (StateDirectory): its folder must exist and
      # belong to the service user, or ReadWritePaths= names a missing path and the start fails.
      systemd.tmpfiles.rules = optional (dbDir != "/var/lib/honeybot" && dbDir != dirOf hb.dbPath)
        "d ${dbDir} 0750 ${hb.user} ${hb.group} - -";

      systemd.services.honeybot-ingest = {
        description = "Honeybot access-log ingester";
        documentation = [ "https://example.invalid/honeybot/docs/ingest.md" ];
        wantedBy = [ "multi-user.target" ];
        after = [ "nginx.service" ];
        restartTriggers = [ configFile ];
        serviceConfig = (import ./hardening.nix) // {
          Type = "notify";
          NotifyAccess = "main";
          ExecStart = "${lib.getExe' cfg.package "honeybot-ingest"} --config ${configFile}";
          ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
          WatchdogSec = "30s";
          Restart = "on-failure";
          RestartSec = "2s";
          TimeoutStopSec = "10s";
          User = hb.user;
          Group = hb.group;
          SupplementaryGroups = optional config.services.nginx.enable config.services.nginx.group;
          StateDirectory = "honeybot";
          StateDirectoryMode = "0750";
          ReadWritePaths = [ dbDir ];
          LoadCredential = ipKey.loadCredential;
          # No network at all: it reads files and writes SQLite; journald and the notify
          # socket are Unix sockets.
          PrivateNetwork = true;
          RestrictAddressFamilies = [ "AF_UNIX" ];
          IPAddressDeny = "any";
        };
      };
    }
  ]);
}
