# Must FAIL evaluation: a secret inside the world-readable Nix store (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.honeybot.ingest = {
    enable = true;
    settings.ip_mode = "hash";
    ipHashKeyFile = "/nix/store/00000000000000000000000000000000-key";
  };
}
