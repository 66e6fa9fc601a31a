# honeybot-director: the live show (articles in a browser window, read by the narrator,
# breaking news when a post is published). A systemd *user* service bound to the graphical
# session: it opens browser windows on the user's display and speaks through the narrator's
# socket in $XDG_RUNTIME_DIR.
{ config
, lib
, pkgs
, ...
}:
let
  inherit (lib)
    mkEnableOption
    mkOption
    mkIf
    types
    literalExpression
    ;
  hbLib = import ./lib.nix { inherit lib pkgs; };
  cfg = config.services.honeybot.director;
  settingsFormat = pkgs.formats.toml { };

  # Nulls dropped: the director rejects unknown keys and keeps its own defaults. The browser
  # is pinned by store path, whichever kind is picked.
  renderedSettings = lib.filterAttrsRecursive (_: v: v != null) (
    lib.recursiveUpdate cfg.settings {
      browser.command = cfg.settings.browser.command or (lib.getExe cfg.browserPackage);
    }
  );

  # Validated at build time, so a bad config fails nixos-rebuild, not the running service.
  configFile =
    pkgs.runCommand "honeybot-director.toml"
      {
        raw = settingsFormat.generate "honeybot-director-unchecked.toml" renderedSettings;
      }
      ''
        ${lib.getExe' cfg.package "honeybot-director"} check-config --config "$raw"
        cp "$raw" "$out"
      '';

  # A graphical session the user service can bind to (wmctrl and xdotool need X11 or XWayland).
  enabled = path: lib.attrByPath path false config;
  hasGraphicalSession = lib.any enabled [
    [ "services" "xserver" "enable" ]
    [ "services" "displayManager" "enable" ]
    [ "programs" "sway" "enable" ]
    [ "programs" "hyprland" "enable" ]
    [ "programs" "wayfire" "enable" ]
  ];
in
{
  options.services.honeybot.director = {
    enable = mkEnableOption "honeybot-director, the live show (a systemd user service in the graphical session)";

    package = hbLib.packageOption "honeybot-director" "The honeybot-director package (wrapped with chromium, wmctrl and xdotool).";

    browserPackage = mkOption {
      type = types.package;
      default = if cfg.settings.browser.kind == "firefox" then pkgs.firefox else pkgs.chromium;
      defaultText = literalExpression ''if settings.browser.kind == "firefox" then pkgs.firefox else pkgs.chromium'';
      description = "The browser the show opens; its store path is written into the config (`browser.command`).";
    };

    settings = mkOption {
      description = ''
        honeybot-director configuration, rendered to TOML (keys and defaults: docs/director.md).
        The director rejects unknown keys, and the rendered file is checked with
        `honeybot-director check-config` at build time.
      '';
      default = { };
      example = literalExpression ''
        {
          posts = "/srv/site/_posts";
          site_url = "https://example.org";
          heartbeat.actions = [ [ "wmctrl" "-a" "Honeybot watch" ] [ "wmctrl" "-i" "-a" "{window}" ] ];
        }
      '';
      type = types.submodule {
        freeformType = settingsFormat.type;
        options = {
          posts = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/srv/site/_posts";
            description = "The Jekyll `_posts` folder (read, and watched for breaking news).";
          };
          site_url = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "https://example.org";
            description = "The site's base URL; each page must answer 200 there before it is shown.";
          };
          newest = mkOption {
            type = types.ints.unsigned;
            default = 5;
            description = "How many of the newest posts open each round, in order; the rest follow shuffled.";
          };
          browser = mkOption {
            default = { };
            description = "The browser window.";
            type = types.submodule {
              freeformType = settingsFormat.type;
              options = {
                kind = mkOption {
                  type = types.enum [
                    "chromium"
                    "firefox"
                  ];
                  default = "chromium";
                  description = "Which browser shows the pages (a new profile per article).";
                };
                kiosk = mkOption {
                  type = types.bool;
                  default = false;
                  description = "Full-screen kiosk windows instead of normal ones.";
                };
              };
            };
          };
        };
      };
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = config.services.honeybot.narrator.enable;
        message = "services.honeybot.director speaks through the narrator: set services.honeybot.narrator.enable = true (same user session).";
      }
      {
        assertion = hasGraphicalSession;
        message = "services.honeybot.director shows pages in a graphical session: enable one (services.xserver.enable with a display manager, or programs.sway.enable for XWayland); wmctrl and xdotool need X11 or XWayland.";
      }
      {
        assertion = cfg.settings.posts != null && cfg.settings.site_url != null;
        message = "services.honeybot.director needs settings.posts (the Jekyll _posts folder) and settings.site_url (the site's base URL).";
      }
    ];

    environment.systemPackages = [ cfg.package ];

    systemd.user.services.honeybot-director = {
      description = "Honeybot director (the live show)";
      wantedBy = [ "graphical-session.target" ];
      partOf = [ "graphical-session.target" ];
      after = [
        "graphical-session.target"
        "honeybot-narrator.service"
      ];
      wants = [ "honeybot-narrator.service" ];
      restartTriggers = [ configFile ];
      serviceConfig = {
        Type = "notify";
        ExecStart = "${lib.getExe' cfg.package "honeybot-director"} run --config ${configFile}";
        # The director ends its browsers itself (process groups, then the state file on the
        # next start); only the main process gets the stop signal.
        KillMode = "mixed";
        TimeoutStopSec = "40s";
        WatchdogSec = "60s";
        Restart = "on-failure";
        RestartSec = "5s";
        NoNewPrivileges = true;
        LockPersonality = true;
        SystemCallArchitectures = "native";
      };
    };
  };
}
