# Offline half of the VM test tests/nixos/toggles.nix (scripts/check-nix.sh): its machine and
# both specialisations evaluate, and each renders exactly the honeybot units it should.
{ config, lib, ... }:
let
  # A specialisation's `configuration` is the whole evaluated child system (its option type
  # comes from extendModules, see nixos/modules/system/activation/specialisation.nix).
  child = name: config.specialisation.${name}.configuration;
  units = c: lib.filter (lib.hasPrefix "honeybot") (lib.attrNames c.systemd.units ++ lib.attrNames c.systemd.user.units);
  expect = name: c: want: {
    assertion = units c == want;
    message = "${name}: honeybot units ${toString (units c)}, expected ${toString want}";
  };
in
{
  imports = [
    ../../hosts/base.nix
    ./toggles-node.nix
  ];
  assertions = [
    (expect "everything on" config [ "honeybot-ingest.service" "honeybot-narrator.service" ])
    (expect "ingest-off" (child "ingest-off") [ "honeybot-narrator.service" ])
    (expect "all-off" (child "all-off") [ ])
  ];
}
