# The workstation's narrator USER unit, copied under the same name into the system units so
# that ../shared/tools/nixos-eval-check.sh (which renders system units) can run
# `systemd-analyze verify` and `security` on it (scripts/check-nix.sh; the script also scores
# it with `--user`). Nothing else is added.
{ config, ... }:
{
  imports = [ ../../hosts/workstation.nix ];
  systemd.units."honeybot-narrator.service".text =
    config.systemd.user.units."honeybot-narrator.service".text;
}
