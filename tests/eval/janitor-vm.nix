# Offline half of the VM test tests/nixos/janitor.nix (scripts/check-nix.sh): its machine
# evaluates and renders the janitor's units, its site is the virtual host's root.
{ config, lib, ... }:
let
  janitor = config.services.honeybot.janitor;
  want = [
    "honeybot-ingest.service"
    "honeybot-janitor-reload.path"
    "honeybot-janitor-reload.service"
    "honeybot-janitor-restore.service"
    "honeybot-janitor.service"
    "honeybot-janitor.timer"
  ];
  units = lib.filter (lib.hasPrefix "honeybot") (lib.attrNames config.systemd.units);
in
{
  imports = [
    ../../hosts/base.nix
    ./janitor-node.nix
  ];
  assertions = [
    {
      assertion = units == want;
      message = "janitor VM node: honeybot units ${toString units}, expected ${toString want}";
    }
    {
      assertion = janitor.settings.site == toString config.services.nginx.virtualHosts.localhost.root;
      message = "janitor VM node: settings.site is ${toString janitor.settings.site}, not the virtual host's root";
    }
  ];
}
