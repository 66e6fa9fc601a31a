# Must FAIL evaluation with the assertion that names settings.piper.model (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.honeybot.narrator = {
    enable = true;
    users = [ "show" ];
  };
}
