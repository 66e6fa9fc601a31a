# Must FAIL evaluation with the assertion that names voiceModel (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.honeybot.narrator.enable = true;
}
