# What every Honeybot service shares: the system user and the HoneyDB location.
{ config
, lib
, ...
}:
let
  inherit (lib) mkOption types mkIf;
  cfg = config.services.honeybot;
  # The system services of the family that run as the Honeybot user (the narrator and the
  # director are user services in someone's session); `or false` keeps this working while a
  # module is not imported.
  services = [
    "ingest"
    "janitor"
  ];
  anyEnabled = lib.any (n: cfg.${n}.enable or false) services;
  dbDir = dirOf cfg.dbPath;
in
{
  options.services.honeybot = {
    user = mkOption {
      type = types.str;
      default = "honeybot";
      description = "System user the Honeybot services run as (created when it is the default).";
    };
    group = mkOption {
      type = types.str;
      default = "honeybot";
      description = "Group of the Honeybot services; members may read HoneyDB (e.g. to run reports).";
    };
    dbPath = mkOption {
      type = types.str;
      default = "/var/lib/honeybot/honeybot.db";
      description = "The HoneyDB SQLite file shared by the Honeybot services and the `honeybot` CLI.";
    };
  };

  config = mkIf anyEnabled {
    assertions = [
      {
        assertion = lib.hasPrefix "/" cfg.dbPath;
        message = "services.honeybot.dbPath = \"${cfg.dbPath}\" is not an absolute path: give the full path of the HoneyDB file.";
      }
    ];

    # A HoneyDB outside /var/lib/honeybot (the services' StateDirectory) lives in a folder
    # nothing else creates: make it, owned by the service user, before the services start.
    systemd.tmpfiles.rules = lib.optional (dbDir != "/var/lib/honeybot") "d ${dbDir} 0750 ${cfg.user} ${cfg.group} - -";

    users.users = mkIf (cfg.user == "honeybot") {
      honeybot = {
        isSystemUser = true;
        inherit (cfg) group;
        home = "/var/lib/honeybot";
      };
    };
    users.groups = mkIf (cfg.group == "honeybot") { honeybot = { }; };
  };
}
