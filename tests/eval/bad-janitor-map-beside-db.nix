# Must FAIL evaluation: nginx reads the map's folder, so it must not be HoneyDB's
# (scripts/check-nix.sh).
{
  imports = [ ./janitor-minimal.nix ];
  services.honeybot.janitor.settings.map = "/var/lib/honeybot/redirects.map";
}
