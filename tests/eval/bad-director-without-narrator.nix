# Must FAIL evaluation with the assertion that names the narrator (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.xserver.enable = true;
  services.honeybot.director = {
    enable = true;
    settings = {
      posts = "/srv/site/_posts";
      site_url = "https://example.org";
    };
  };
}
