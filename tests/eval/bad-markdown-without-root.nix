# Markdown twins in a virtual host without `root`: the module must refuse it with a message.
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.nginx = {
    enable = true;
    virtualHosts."example.org".locations."/".proxyPass = "http://127.0.0.1:8080";
  };
  services.honeybot.nginx = {
    enable = true;
    virtualHosts = [ "example.org" ];
    markdownTwins.enable = true;
  };
}
