# honeybot-janitor: once a day (a oneshot from a timer) turns the 404s in HoneyDB into an
# nginx map of 301 redirects to live pages, checked with this host's nginx binary before it
# replaces the old map. The janitor runs unprivileged and sandboxed: it writes only the map's
# folder and HoneyDB, and cannot reload nginx. honeybot-janitor-reload.path watches the map and
# starts honeybot-janitor-reload.service, which does what nginx's own ExecReload does, as
# nginx's user: `nginx -t` on the real, complete config, then a reload. If nginx refuses the
# config, honeybot-janitor-restore.service (the janitor's user) puts the previous map back.
# nginx includes the map through modules/nginx.nix (services.honeybot.nginx).
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
    types
    literalExpression
    optional
    optionals
    ;
  hbLib = import ./lib.nix { inherit lib pkgs; };
  cfg = config.services.honeybot.janitor;
  hb = config.services.honeybot;
  nginx = config.services.nginx;
  settingsFormat = pkgs.formats.toml { };

  mapFile = cfg.settings.map;
  mapDir = dirOf mapFile;
  dbDir = dirOf cfg.settings.db;
  # services.honeybot.nginx includes the map and adds the 301 line (modules/nginx.nix).
  integrated = hb.nginx.enable && nginx.enable;
  withModel = (cfg.settings.llm or null) != null && !(cfg.settings.no_llm or false);

  apiKey = hbLib.credential "honeybot-janitor.service" "llm-api-key" cfg.llmApiKeyFile;

  git = cfg.gitCommit;

  # Nulls dropped: the janitor rejects unknown keys and keeps its own defaults.
  renderedSettings = lib.filterAttrsRecursive (_: v: v != null) (
    lib.recursiveUpdate cfg.settings (
      lib.optionalAttrs (cfg.llmApiKeyFile != null) { llm.api_key_file = apiKey.path; }
      // lib.optionalAttrs git.enable { git_repo = git.repo; git_path = git.path; }
    )
  );

  # Validated at build time with the janitor's own loader, so a bad config fails
  # nixos-rebuild, not the nightly run (check-config reads no key, database or site).
  configFile =
    pkgs.runCommand "honeybot-janitor.toml"
      {
        nativeBuildInputs = [ cfg.package ];
        raw = settingsFormat.generate "honeybot-janitor-unchecked.toml" renderedSettings;
      }
      ''
        honeybot-janitor check-config --config "$raw"
        cp "$raw" "$out"
      '';

  # The map nginx includes before the janitor's first run (tmpfiles copies it only when
  # there is no map yet): one `map` block with no entry, what the janitor writes for none.
  emptyMap = pkgs.writeText "honeybot-redirects-empty.map" (builtins.readFile ./nginx/redirects-empty.map);

  systemctl = "${config.systemd.package}/bin/systemctl";

  # How nixpkgs' nginx module starts nginx (`nginx -c <the rendered config>`); it tests the
  # config with the same command plus `-t` (preStart, ExecReload).
  nginxUnit = config.systemd.services.nginx.serviceConfig;
  nginxCommand = if builtins.isList nginxUnit.ExecStart then lib.last nginxUnit.ExecStart else nginxUnit.ExecStart;

  # A map path nginx reads verbatim inside quotes (modules/nginx/redirects-http.conf).
  mapPath = types.strMatching "/[A-Za-z0-9._/-]*[A-Za-z0-9._-]";
in
{
  options.services.honeybot.janitor = {
    enable = mkEnableOption "honeybot-janitor, which turns the 404s in HoneyDB into validated nginx 301 redirects to live pages, once a day";

    package = hbLib.packageOption "honeybot-janitor" "The honeybot-janitor package to run.";

    onCalendar = mkOption {
      type = types.either types.str (types.listOf types.str);
      default = "daily";
      example = "*-*-* 04:00:00";
      description = "When the janitor runs (systemd `OnCalendar=` of honeybot-janitor.timer; `Persistent=true` catches up a run missed while the machine was off).";
    };

    randomizedDelaySec = mkOption {
      type = types.str;
      default = "30min";
      example = "0";
      description = "Random delay added to each run (systemd `RandomizedDelaySec=` of the timer).";
    };

    virtualHosts = mkOption {
      type = types.listOf types.str;
      default = hb.nginx.virtualHosts;
      defaultText = literalExpression "config.services.honeybot.nginx.virtualHosts";
      example = [ "example.org" ];
      description = ''
        Names of `services.nginx.virtualHosts` that answer a healed dead path with
        `if ($honeybot_redirect) { return 301 $honeybot_redirect; }`.
      '';
    };

    reloadNginx = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Reload nginx whenever the map changes (honeybot-janitor-reload.path starts
        honeybot-janitor-reload.service: `nginx -t` on the real config, then `nginx -s reload`,
        as nginx's user); if nginx refuses, the previous map is put back. Needs
        `services.honeybot.nginx.enable`, which includes the map in nginx's config. Off:
        reload nginx yourself after a run (and include `settings.map` yourself when
        `services.honeybot.nginx` is off).
      '';
    };

    gitCommit = {
      enable = mkEnableOption "committing each new map to the site's git repository (a copy at `gitCommit.path`, authored by honeybot-janitor, no hook run)";
      repo = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/srv/example.org";
        description = ''
          The git work tree that gets the commits. The janitor's service may then write it
          (and trusts it for git: `safe.directory`); the `services.honeybot.user` must have
          write access to it and its `.git` (e.g. group-writable for `services.honeybot.group`).
        '';
      };
      path = mkOption {
        type = types.str;
        default = "honeybot-redirects.map";
        description = "Where the copy of the map goes inside `gitCommit.repo` (relative).";
      };
    };

    llmApiKeyFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/run/secrets/honeybot-janitor-llm-key";
      description = ''
        File holding the API key of an OpenAI-compatible endpoint (`settings.llm`). Passed to
        the service with `LoadCredential`, so the file may be readable by root only. Give a
        path as a string: a Nix path literal would copy the secret into the Nix store.
      '';
    };

    settings = mkOption {
      description = ''
        honeybot-janitor configuration, rendered to TOML (every key: docs/janitor.md). Keys not
        declared below pass through as written; the janitor rejects unknown keys, and the
        rendered file is checked with `honeybot-janitor check-config` at build time.
      '';
      default = { };
      example = literalExpression ''
        {
          site = "/var/www/example.org";
          days = 30;
          min_hits = 3;
          llm = { model = "qwen2.5:3b"; endpoint = "http://127.0.0.1:11434"; };
        }
      '';
      type = types.submodule {
        freeformType = settingsFormat.type;
        options = {
          db = mkOption {
            type = types.str;
            default = hb.dbPath;
            defaultText = literalExpression "config.services.honeybot.dbPath";
            description = "HoneyDB SQLite file (the one honeybot-ingest fills).";
          };
          site = mkOption {
            type = types.nullOr types.str;
            default =
              let
                roots = lib.filter (r: r != null) (map (h: nginx.virtualHosts.${h}.root or null) cfg.virtualHosts);
              in
              # Interpolated, not toString: a path literal root is served from the store.
              if roots == [ ] then null else "${lib.head roots}";
            defaultText = literalExpression "the root of the first of services.honeybot.janitor.virtualHosts";
            example = "/var/www/example.org";
            description = "The live pages: a built site folder, its `sitemap.xml`, or a Jekyll source folder with `_posts/` (read only).";
          };
          map = mkOption {
            type = mapPath;
            default = "/var/lib/honeybot-janitor/redirects.map";
            description = ''
              The nginx map file the janitor writes (with `<map>.previous` beside it). Its
              folder is the only one the janitor writes besides HoneyDB's; nginx reads it, so
              it must not be HoneyDB's folder.
            '';
          };
          map_hash_bucket_size = mkOption {
            type = types.ints.between 32 4096;
            default = if nginx.mapHashBucketSize != null then nginx.mapHashBucketSize else 128;
            defaultText = literalExpression "config.services.nginx.mapHashBucketSize (128 when null)";
            description = "nginx's `map_hash_bucket_size` (keys longer than it holds are refused); must equal the one nginx uses.";
          };
          test_command = mkOption {
            type = types.listOf types.str;
            default = [ "${lib.getExe' nginx.package "nginx"}" "-t" "-q" "-p" "{dir}/" "-e" "{dir}/error.log" "-c" "{config}" ];
            defaultText = literalExpression ''[ "''${config.services.nginx.package}/bin/nginx" "-t" "-q" "-p" "{dir}/" "-e" "{dir}/error.log" "-c" "{config}" ]'';
            description = ''
              How a new map is checked before it replaces the old one: the command runs on a
              small config (`{config}`) that includes the new map at `http` level with
              `map_hash_bucket_size` and uses `$honeybot_redirect` in a server. The default
              is this host's nginx binary. The complete config is tested before nginx
              reloads, with nixpkgs' own `nginx -t` command line (`reloadNginx`).
            '';
          };
          reload_command = mkOption {
            type = types.nullOr (types.listOf types.str);
            default = null;
            description = ''
              A command the janitor runs itself after replacing the map (null: none). With
              `reloadNginx` leave it null: honeybot-janitor-reload.service reloads nginx, so the
              janitor needs no right over nginx.
            '';
          };
        };
      };
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.settings.site != null;
        message = "services.honeybot.janitor.settings.site is unset: give the built site folder (the virtual host's root), its sitemap.xml or the Jekyll source folder, or list a virtual host with a root in services.honeybot.janitor.virtualHosts.";
      }
      {
        assertion = cfg.settings.site == null || !(lib.hasPrefix "/home/" cfg.settings.site || lib.hasPrefix "/root/" cfg.settings.site);
        message = "services.honeybot.janitor.settings.site = \"${toString cfg.settings.site}\" is in a home folder, which the janitor's sandbox (and nginx's) hides: serve the site from e.g. /var/www.";
      }
      {
        assertion = hb.ingest.enable;
        message = "services.honeybot.janitor reads the 404s that honeybot-ingest stores in HoneyDB, but services.honeybot.ingest.enable is false: enable it.";
      }
      {
        assertion = hb.ingest.enable -> hb.ingest.settings.db == cfg.settings.db;
        message = "services.honeybot.janitor.settings.db (${cfg.settings.db}) is not the database honeybot-ingest writes (services.honeybot.ingest.settings.db = ${hb.ingest.settings.db}): use the same file.";
      }
      {
        assertion = lib.hasPrefix "/" cfg.settings.db;
        message = "services.honeybot.janitor.settings.db = \"${cfg.settings.db}\" is not an absolute path: give the full path of the HoneyDB file.";
      }
      {
        assertion = mapDir != dbDir && mapDir != "/var/lib/honeybot" && mapDir != "/";
        message = "services.honeybot.janitor.settings.map = \"${mapFile}\" is in HoneyDB's folder ${dbDir}: nginx reads the map's folder and must not read HoneyDB; use a folder of its own, e.g. /var/lib/honeybot-janitor/redirects.map.";
      }
      {
        assertion = cfg.reloadNginx -> integrated;
        message = "services.honeybot.janitor.reloadNginx reloads nginx with the map that services.honeybot.nginx includes, but ${if nginx.enable then "services.honeybot.nginx.enable" else "services.nginx.enable"} is false: enable it, or set reloadNginx = false and include ${mapFile} yourself.";
      }
      {
        assertion = integrated -> cfg.virtualHosts != [ ];
        message = "services.honeybot.janitor.virtualHosts is empty: name the services.nginx.virtualHosts that should answer healed paths with a 301 (it defaults to services.honeybot.nginx.virtualHosts).";
      }
      {
        assertion = integrated -> nginx.mapHashBucketSize == cfg.settings.map_hash_bucket_size;
        message = "services.honeybot.janitor.settings.map_hash_bucket_size = ${toString cfg.settings.map_hash_bucket_size} but nginx uses services.nginx.mapHashBucketSize = ${if nginx.mapHashBucketSize == null then "null (the CPU's cache line)" else toString nginx.mapHashBucketSize}: set both to the same value (128 holds keys of up to 110 bytes).";
      }
      {
        assertion = (cfg.settings.llm.api_key_file or null) == null;
        message = "services.honeybot.janitor.settings.llm.api_key_file: give the key file as services.honeybot.janitor.llmApiKeyFile instead (it reaches the service with LoadCredential).";
      }
      (hbLib.secretNotInStore "services.honeybot.janitor.llmApiKeyFile" cfg.llmApiKeyFile)
      {
        assertion = git.enable -> git.repo != null && lib.hasPrefix "/" git.repo;
        message = "services.honeybot.janitor.gitCommit.enable needs services.honeybot.janitor.gitCommit.repo: the absolute path of the site's git work tree.";
      }
      {
        assertion = git.enable && git.repo != null -> !(lib.hasPrefix "/home/" git.repo || lib.hasPrefix "/root/" git.repo);
        message = "services.honeybot.janitor.gitCommit.repo = \"${toString git.repo}\" is in a home folder, which the janitor's sandbox hides: keep the repository e.g. under /srv.";
      }
      {
        assertion = !(cfg.settings ? git_repo || cfg.settings ? git_path);
        message = "services.honeybot.janitor.settings.git_repo / git_path: use services.honeybot.janitor.gitCommit instead (it also lets the service write the repository).";
      }
    ];

    environment.systemPackages = [ cfg.package ];

    # The map's folder: the janitor's user writes it, nginx's group reads it (nginx runs as
    # its own user, not root). The empty map is copied only when there is no map yet, so
    # nginx can start (and include it) before the janitor's first run.
    systemd.tmpfiles.rules = [
      "d ${mapDir} 0750 ${hb.user} ${if nginx.enable then nginx.group else hb.group} - -"
      "C ${mapFile} - - - - ${emptyMap}"
    ];

    systemd.services.honeybot-janitor = {
      description = "Honeybot janitor: 404s to validated nginx redirects";
      documentation = [ "https://example.invalid/honeybot/docs/janitor.md" ];
      after = [ "honeybot-ingest.service" ] ++ optional withModel "network-online.target";
      wants = optional withModel "network-online.target";
      restartIfChanged = false;
      serviceConfig = (import ./hardening.nix) // {
        Type = "oneshot";
        ExecStart = "${lib.getExe' cfg.package "honeybot-janitor"} --config ${configFile} run";
        User = hb.user;
        Group = hb.group;
        StateDirectory = "honeybot";
        StateDirectoryMode = "0750";
        # HoneyDB (with its -wal and -shm files) and the map's folder; nothing else (and the
        # site's repository with gitCommit; "-": a missing repository fails the commit with
        # the janitor's own message after the map is published, not the whole start).
        ReadWritePaths = lib.unique ([ dbDir mapDir ] ++ optional git.enable "-${git.repo}");
        # git refuses a repository owned by another user unless it is trusted: this one only.
        Environment = mkIf git.enable [
          "GIT_CONFIG_COUNT=1"
          "GIT_CONFIG_KEY_0=safe.directory"
          "GIT_CONFIG_VALUE_0=${toString git.repo}"
        ];
        LoadCredential = apiKey.loadCredential;
        # nginx -t and the map run under the baseline; the model, when configured, is the
        # only thing reached over the network.
        PrivateNetwork = !withModel;
        RestrictAddressFamilies = [ "AF_UNIX" ] ++ optionals withModel [ "AF_INET" "AF_INET6" ];
        IPAddressDeny = mkIf (!withModel) "any";
        TimeoutStartSec = "2h";
        Nice = 10;
        IOSchedulingClass = "idle";
      };
    };

    systemd.timers.honeybot-janitor = {
      description = "Run the Honeybot janitor";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.onCalendar;
        Persistent = true;
        RandomizedDelaySec = cfg.randomizedDelaySec;
      };
    };

    # nginx is reloaded when the map changes, whoever changed it (the timer's run,
    # `honeybot-janitor run` by hand, or an undo: `mv <map>.previous <map>`).
    systemd.paths.honeybot-janitor-reload = mkIf cfg.reloadNginx {
      description = "Reload nginx when the Honeybot redirect map changes";
      wantedBy = [ "paths.target" ];
      pathConfig = {
        PathChanged = mapFile;
        Unit = "honeybot-janitor-reload.service";
      };
    };

    systemd.services.honeybot-janitor-reload = mkIf cfg.reloadNginx {
      description = "Test nginx's config with the new Honeybot redirect map, then reload nginx";
      documentation = [ "https://example.invalid/honeybot/docs/janitor.md" ];
      after = [ "nginx.service" ];
      # nginx refused the map (its `nginx -t` failed): put the previous map back, as the
      # janitor's user; nginx still runs the config it had.
      onFailure = [ "honeybot-janitor-restore.service" ];
      # One map change can fire the path unit more than once (a rename, then the old file
      # going away): systemd's default limit of 5 starts in 10 s must not stop the reloads.
      startLimitIntervalSec = 0;
      serviceConfig = (import ./hardening.nix) // {
        Type = "oneshot";
        # Like nixpkgs' nginx-config-reload: nothing to do while nginx is not running.
        ExecCondition = "${systemctl} -q is-active nginx.service";
        # What nginx's own ExecReload does (`nginx -t` on the real config, then SIGHUP),
        # as nginx's user with nginx's capabilities: no root, no access to systemd's manager.
        ExecStart = [
          "${nginxCommand} -t"
          "${nginxCommand} -s reload"
        ];
        User = nginx.user;
        Group = nginx.group;
        # `nginx -t` opens the pid file and the logs as nginx does; nothing else is written.
        ReadWritePaths = [ "-/run/nginx" "-/var/log/nginx" "-/var/cache/nginx" ];
        # What nginx's own unit has, so that `nginx -t` sees what nginx sees: it binds the
        # listening sockets (ports below 1024: CAP_NET_BIND_SERVICE, which a private user
        # namespace would void) in the host's network, and resolves upstream names.
        AmbientCapabilities = nginxUnit.AmbientCapabilities or [ "CAP_NET_BIND_SERVICE" ];
        CapabilityBoundingSet = nginxUnit.CapabilityBoundingSet or [ "CAP_NET_BIND_SERVICE" ];
        PrivateUsers = false;
        RestrictAddressFamilies = nginxUnit.RestrictAddressFamilies or [ "AF_UNIX" "AF_INET" "AF_INET6" ];
        MemoryDenyWriteExecute = nginxUnit.MemoryDenyWriteExecute or true;
        ProtectHome = nginxUnit.ProtectHome or true;
        TimeoutStartSec = "2min";
      };
    };

    systemd.services.honeybot-janitor-restore = mkIf cfg.reloadNginx {
      description = "Put the previous Honeybot redirect map back after nginx refused a new one";
      documentation = [ "https://example.invalid/honeybot/docs/janitor.md" ];
      unitConfig.ConditionPathExists = "${mapFile}.previous";
      serviceConfig = (import ./hardening.nix) // {
        Type = "oneshot";
        ExecStart = "${pkgs.coreutils}/bin/mv -fT -- ${mapFile}.previous ${mapFile}";
        User = hb.user;
        Group = hb.group;
        ReadWritePaths = [ mapDir ];
        PrivateNetwork = true;
        RestrictAddressFamilies = [ "AF_UNIX" ];
        IPAddressDeny = "any";
      };
    };
  };
}
