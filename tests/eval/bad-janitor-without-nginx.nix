# Must FAIL evaluation: the janitor reloads nginx with a map that only services.honeybot.nginx
# includes, and it is off (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.nginx.enable = true;
  services.honeybot.ingest.enable = true;
  services.honeybot.janitor = {
    enable = true;
    settings.site = "/var/www/example.org";
  };
}
