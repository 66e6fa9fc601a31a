# A trap path that would inject nginx directives: the option type must refuse it.
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.nginx = {
    enable = true;
    virtualHosts."example.org".root = "/var/www/example.org";
  };
  services.honeybot.nginx = {
    enable = true;
    virtualHosts = [ "example.org" ];
    trap.path = "/trap.js { return 200; } location /x";
  };
}
