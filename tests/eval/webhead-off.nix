# The web head with every Honeybot switch off (scripts/check-nix.sh): every
# `services.honeybot.<name>.enable` that exists (janitor and director included once their
# modules are imported) and `programs.ai-commit.enable` forced to false. The assertions below
# fail the evaluation when a Honeybot system or user unit, or the system user, is still
# rendered. (tmpfiles rules and packages cannot be listed with the offline stub package set.)
{ config, lib, options, ... }:
let
  switches = lib.filter (n: options.services.honeybot.${n} ? enable) (lib.attrNames options.services.honeybot);
  isHoneybot = lib.hasPrefix "honeybot";
  left = what: names: {
    assertion = names == [ ];
    message = "switched off, yet still rendered: ${what} ${lib.concatStringsSep ", " names}";
  };
in
{
  imports = [ ../../hosts/webhead.nix ];

  services.honeybot = lib.genAttrs switches (_: { enable = lib.mkForce false; });
  programs.ai-commit.enable = lib.mkForce false;

  assertions = [
    (left "system units" (lib.filter isHoneybot (lib.attrNames config.systemd.units)))
    (left "user units" (lib.filter isHoneybot (lib.attrNames config.systemd.user.units)))
    (left "users" (lib.filter (n: n == config.services.honeybot.user) (lib.attrNames config.users.users)))
  ];
}
