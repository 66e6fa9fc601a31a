# What every Honeybot service shares: the system user and the HoneyDB location.
{ config
, lib
, ...
}:
let
  inherit (lib) mkOption types mkIf;
  cfg = config.services.honeybot;
  anyEnabled = cfg.ingest.enable;
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
