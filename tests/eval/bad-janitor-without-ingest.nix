# Must FAIL evaluation: the janitor reads the 404s honeybot-ingest stores (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.nginx = {
    enable = true;
    virtualHosts."example.org".root = "/var/www/example.org";
  };
  services.honeybot.nginx = {
    enable = true;
    virtualHosts = [ "example.org" ];
  };
  services.honeybot.janitor.enable = true;
}
