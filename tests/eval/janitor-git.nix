# The janitor committing its map to the site's repository (gitCommit, as the VM test's
# machine has it), for scripts/check-nix.sh: the settings the daemon reads, the one extra writable path, git's
# trust of that repository only, and exposure <= 2.0.
{ config, ... }:
let
  unit = config.systemd.services.honeybot-janitor.serviceConfig;
in
{
  # The VM test's machine commits to /srv/site-src (gitCommit in janitor-node.nix).
  imports = [ ./janitor-vm.nix ];
  assertions = [
    {
      assertion = unit.ReadWritePaths == [ "/var/lib/honeybot" "/var/lib/honeybot-janitor" "-/srv/site-src" ];
      message = "gitCommit: the janitor may write ${toString unit.ReadWritePaths}";
    }
    {
      assertion = unit.Environment == [ "GIT_CONFIG_COUNT=1" "GIT_CONFIG_KEY_0=safe.directory" "GIT_CONFIG_VALUE_0=/srv/site-src" ];
      message = "gitCommit: git's trust is ${toString unit.Environment}";
    }
  ];
}
