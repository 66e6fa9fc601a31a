# The web head's janitor wiring, checked on the rendered values (scripts/check-nix.sh): the
# map is included at http level after map_hash_bucket_size 128, the virtual host answers
# healed paths with a 301 before anything else, the map exists before nginx starts, the
# janitor writes only HoneyDB's folder and the map's, and nginx is tested with nixpkgs' own
# `nginx -t` command line (the one its ExecReload runs) before it is reloaded.
{ config, lib, options, ... }:
let
  nginx = config.services.nginx;
  janitor = config.services.honeybot.janitor;
  units = config.systemd.services;
  map = "/var/lib/honeybot-janitor/redirects.map";
  include = ''include "${map}";'';
  redirect = "if ($honeybot_redirect) { return 301 $honeybot_redirect; }";
  http = nginx.commonHttpConfig;
  server = nginx.virtualHosts."example.org".extraConfig;
  check = assertion: message: { inherit assertion message; };
  # Only the janitor module's own tmpfiles rules: the whole list cannot be evaluated with the
  # offline stub package set.
  tmpfiles = lib.concatMap (d: d.value) (lib.filter (d: lib.hasSuffix "/modules/janitor.nix" d.file) options.systemd.tmpfiles.rules.definitionsWithLocations);
  firstLine = text: lib.head (lib.filter (l: l != "" && !lib.hasPrefix "#" l) (lib.splitString "\n" text));
in
{
  imports = [ ../../hosts/webhead.nix ];
  assertions = [
    (check (lib.hasInfix include http) "commonHttpConfig does not include the map: ${http}")
    (check (lib.hasInfix "log_format honeybot" (lib.head (lib.splitString include http))) "the map is not included after the Honeybot log format")
    (check (nginx.mapHashBucketSize == 128) "services.nginx.mapHashBucketSize is ${toString nginx.mapHashBucketSize}, not 128")
    (check (janitor.settings.map_hash_bucket_size == 128) "the janitor checks keys against bucket ${toString janitor.settings.map_hash_bucket_size}")
    (check (firstLine server == redirect) "the virtual host does not start with the redirect: ${server}")
    (check (lib.elem "d /var/lib/honeybot-janitor 0750 honeybot nginx - -" tmpfiles) "no tmpfiles rule for the map's folder (honeybot writes, nginx reads)")
    (check (lib.any (lib.hasPrefix "C ${map} - - - - /nix/store/") tmpfiles) "no tmpfiles rule putting an empty map in place before nginx starts")
    (check (janitor.settings.site == "/var/www/example.org") "settings.site is ${toString janitor.settings.site}, not the virtual host's root")
    (check (units.honeybot-janitor.serviceConfig.ReadWritePaths == [ "/var/lib/honeybot" "/var/lib/honeybot-janitor" ]) "the janitor may write ${toString units.honeybot-janitor.serviceConfig.ReadWritePaths}")
    (check (units.honeybot-janitor.serviceConfig.User == "honeybot") "the janitor does not run as honeybot")
    (check (lib.hasSuffix "/bin/nginx" (lib.head janitor.settings.test_command) && lib.hasPrefix "${nginx.package}" (lib.head janitor.settings.test_command)) "the janitor's test command is not this host's nginx: ${toString janitor.settings.test_command}")
    (check (lib.head units.honeybot-janitor-reload.serviceConfig.ExecStart == lib.head units.nginx.serviceConfig.ExecReload) "the reload unit does not run nixpkgs' own nginx -t: ${lib.head units.honeybot-janitor-reload.serviceConfig.ExecStart}")
    (check (units.honeybot-janitor-reload.serviceConfig.User == nginx.user) "the reload unit does not run as nginx's user")
    (check (units.honeybot-janitor-reload.serviceConfig.AmbientCapabilities == units.nginx.serviceConfig.AmbientCapabilities) "the reload unit's nginx -t lacks nginx's capabilities (it binds the listening sockets)")
    (check (!units.honeybot-janitor-reload.serviceConfig.PrivateUsers && !(units.honeybot-janitor-reload.serviceConfig.PrivateNetwork or false)) "the reload unit's nginx -t does not see the host's network as nginx does")
    (check (units.honeybot-janitor-reload.onFailure == [ "honeybot-janitor-restore.service" ]) "a refused map is not put back")
    (check (config.systemd.paths.honeybot-janitor-reload.pathConfig.PathChanged == map) "the reload does not follow the map")
    (check (config.systemd.timers.honeybot-janitor.timerConfig == { OnCalendar = "daily"; Persistent = true; RandomizedDelaySec = "30min"; }) "timer: ${builtins.toJSON config.systemd.timers.honeybot-janitor.timerConfig}")
  ];
}
