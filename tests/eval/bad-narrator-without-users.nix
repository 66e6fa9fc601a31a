# Must FAIL evaluation with the assertion that names narrator.users (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.honeybot.narrator = {
    enable = true;
    settings.engine = "espeak-ng";
  };
}
