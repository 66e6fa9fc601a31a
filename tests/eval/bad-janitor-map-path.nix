# Must FAIL evaluation: a map path that would inject nginx directives into the include line;
# the option type refuses it (scripts/check-nix.sh).
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
      settings.map = "/var/lib/x.map\"; include \"/etc/shadow";
    };
  };
}
