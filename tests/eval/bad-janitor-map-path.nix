# Must FAIL evaluation: a map path that would inject nginx directives into the include line;
# the option type refuses it (scripts/check-nix.sh).
{
  imports = [ ./janitor-minimal.nix ];
  services.honeybot.janitor.settings.map = "/var/lib/x.map\"; include \"/etc/shadow";
}
