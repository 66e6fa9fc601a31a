# Must FAIL evaluation with the assertion that names ipHashKeyFile (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.honeybot.ingest = {
    enable = true;
    settings.ip_mode = "hash";
  };
}
