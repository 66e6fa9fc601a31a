# honeybot-director with the narrator in an X11 session, for ../shared/tools/nixos-eval-check.sh
# (user units are rendered under systemd.user.units) and scripts/check-nix.sh.
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.xserver.enable = true;
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
      min_show_secs = 10;
      heartbeat = {
        interval_secs = 90;
        actions = [ [ "wmctrl" "-a" "Honeybot watch" ] [ "wmctrl" "-i" "-a" "{window}" ] ];
      };
    };
  };
}
