# The smallest web head with the janitor: nginx with one site, Honeybot's nginx integration,
# the ingester, the janitor with its defaults. Evaluates (scripts/check-nix.sh); the
# bad-janitor-* hosts import it and add one fault each.
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
    janitor.enable = true;
  };
}
