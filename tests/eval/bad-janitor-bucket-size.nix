# Must FAIL evaluation: the janitor would accept keys nginx's smaller map bucket refuses
# (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.nginx = {
    enable = true;
    mapHashBucketSize = 64;
    virtualHosts."example.org".root = "/var/www/example.org";
  };
  services.honeybot = {
    nginx = {
      enable = true;
      virtualHosts = [ "example.org" ];
    };
    ingest.enable = true;
    janitor = {
      enable = true;
      settings.map_hash_bucket_size = 128;
    };
  };
}
