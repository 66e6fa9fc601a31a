# Must FAIL evaluation: no live pages to redirect to (the virtual host has no root and no
# settings.site is given) (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.nginx = {
    enable = true;
    virtualHosts."example.org".locations."/".proxyPass = "http://127.0.0.1:4000";
  };
  services.honeybot = {
    nginx = {
      enable = true;
      virtualHosts = [ "example.org" ];
    };
    ingest.enable = true;
    janitor.enable = true;
  };
}
