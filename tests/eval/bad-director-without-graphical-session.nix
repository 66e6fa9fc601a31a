# Must FAIL evaluation with the assertion that asks for a graphical session (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.honeybot.narrator = {
    enable = true;
    users = [ "show" ];
    settings.engine = "espeak-ng";
  };
  services.honeybot.director = {
    enable = true;
    settings = {
      posts = "/srv/site/_posts";
      site_url = "https://example.org";
    };
  };
}
