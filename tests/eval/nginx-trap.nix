# The web head's nginx side (trap.js, beacon, Markdown twins) for
# ../shared/tools/nixos-eval-check.sh: module options, types and assertions.
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.nginx = {
    enable = true;
    virtualHosts."example.org".root = "/var/www/example.org";
  };
  services.honeybot.nginx = {
    enable = true;
    virtualHosts = [ "example.org" ];
    markdownTwins.enable = true;
  };
}
