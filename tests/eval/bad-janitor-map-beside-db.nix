# Must FAIL evaluation: nginx reads the map's folder, so it must not be HoneyDB's
# (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.nginx = {
    enable = true;
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
      settings.map = "/var/lib/honeybot/redirects.map";
    };
  };
}
