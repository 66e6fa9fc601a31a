# Example web head: nginx serves the site, Honeybot records every request, and the machine
# streams its own show: an auto-login graphical session for the user `show`, whose session
# runs the narrator (voice into a null sink that OBS captures).
# Evaluated as a check (flake `checks.*.host-webhead`) so it keeps working.
#
# The director reads the site's posts aloud on screen; the janitor heals the site's dead
# links once a day with 301 redirects (docs/janitor.md).
{ ... }:
{
  imports = [
    ./base.nix
    ../modules
  ];

  networking.hostName = "honeybot-webhead";

  services.nginx = {
    enable = true;
    virtualHosts."example.org" = {
      root = "/var/www/example.org";
    };
  };
  networking.firewall.allowedTCPPorts = [ 80 ];

  # The show's session: logs in by itself after boot, with PipeWire for the voice.
  users.users.show = {
    isNormalUser = true;
    description = "Honeybot show (auto-login session)";
  };
  services.xserver = {
    enable = true;
    windowManager.openbox.enable = true;
  };
  services.displayManager = {
    defaultSession = "none+openbox";
    autoLogin = {
      enable = true;
      user = "show";
    };
  };
  security.rtkit.enable = true;
  services.pipewire = {
    enable = true;
    pulse.enable = true;
  };

  services.honeybot = {
    nginx = {
      enable = true;
      virtualHosts = [ "example.org" ];
      markdownTwins.enable = true;
    };
    ingest = {
      enable = true;
      settings.ip_mode = "hash";
      # Never in the Nix store: created by agenix or sops-nix (secrets/README.md), or once by
      # hand: `install -m 0400 /dev/null /var/lib/secrets/honeybot-ip-key`
      # then `head -c 32 /dev/urandom | base64 > /var/lib/secrets/honeybot-ip-key`.
      ipHashKeyFile = "/var/lib/secrets/honeybot-ip-key";
    };
    # Daily: 404s of the last 30 days → redirects to pages of the site (the virtual host's
    # root, read only), in /var/lib/honeybot-janitor/redirects.map, which nginx includes.
    janitor = {
      enable = true;
      settings.min_hits = 3;
    };
    narrator = {
      enable = true;
      users = [ "show" ];
      settings = {
        engine = "piper";
        piper.model = "/var/lib/voices/en_US-joe-medium.onnx";
        sink = {
          player = "pw-play";
          device = "honeybot";
        };
        pronunciations.Honeybot = "Honey bot";
      };
    };
    director = {
      enable = true;
      settings = {
        posts = "/var/www/example.org-src/_posts";
        site_url = "http://example.org";
        heartbeat.actions = [
          [ "wmctrl" "-a" "Honeybot watch" ]
          [ "wmctrl" "-i" "-a" "{window}" ]
        ];
      };
    };
  };
}
