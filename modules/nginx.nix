# Makes nginx write the Honeybot extended access-log format that honeybot-ingest reads
# (combined + Accept:"$http_accept" MarkdownServed:$serve_markdown), and serves Honeybot's
# JavaScript trap, its beacon and the site's Markdown twins in the listed virtual hosts.
# With services.honeybot.janitor, it includes the janitor's redirect map at http level (after
# map_hash_bucket_size) and answers healed dead paths with a 301 in the janitor's hosts.
# The nginx text lives in ./nginx/*.conf: crates/honeybot/tests/watch_nginx.rs renders the
# same files into a real nginx, so what the test checks is what this module ships.
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
    concatStringsSep
    optional
    genAttrs
    mkMerge
    mkDefault
    mkBefore
    mkAfter
    ;
  cfg = config.services.honeybot.nginx;
  janitor = config.services.honeybot.janitor;
  # `or false`: this module also works without modules/janitor.nix imported.
  redirects = janitor.enable or false;

  render = file: vars: builtins.replaceStrings (map (n: "@${n}@") (builtins.attrNames vars)) (builtins.attrValues vars) (builtins.readFile file);

  # A location path nginx reads verbatim: no spaces, quotes, semicolons or braces.
  locationPath = types.strMatching "/[A-Za-z0-9._~/-]*";

  trapFile = pkgs.writeText "honeybot-trap.js" (render ./nginx/trap.js { inherit (cfg.trap) beaconPath; });

  # The `log_format honeybot ...;` definition of nginx/http.conf, passed to the ingester so
  # the format nginx writes and the format it reads can never drift apart.
  logFormat = lib.head (lib.splitString ";" (lib.elemAt (lib.splitString "log_format honeybot " (builtins.readFile ./nginx/http.conf)) 1));
  serverConfig = concatStringsSep "\n" (
    optional cfg.trap.enable
      (render ./nginx/trap.conf {
        trapPath = cfg.trap.path;
        inherit (cfg.trap) beaconPath;
        trapFile = "${trapFile}";
      })
    ++ optional cfg.markdownTwins.enable (builtins.readFile ./nginx/markdown.conf)
  );
in
{
  options.services.honeybot.nginx = {
    enable = mkEnableOption "the Honeybot access-log format in nginx (needed for the bot reports)";
    accessLog = mkOption {
      type = types.str;
      default = "/var/log/nginx/access.log";
      description = "Access log nginx writes in the Honeybot format (followed by honeybot-ingest).";
    };

    virtualHosts = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "example.org" ];
      description = ''
        Names of `services.nginx.virtualHosts` that serve the JavaScript trap and its beacon
        (`trap.enable`) and the Markdown twins (`markdownTwins.enable`). The site's pages
        include the trap with `<script src="/trap.js" defer></script>`.
      '';
    };

    trap = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Serve Honeybot's `trap.js` at `trap.path` and a beacon at `trap.beaconPath` in
          every listed virtual host. A client that executes the script requests the beacon
          with a unique query, answered `204 No Content` with `Cache-Control: no-store`.
        '';
      };
      path = mkOption {
        type = locationPath;
        default = "/trap.js";
        description = "URL path of the trap script.";
      };
      beaconPath = mkOption {
        type = locationPath;
        default = "/api/beacon";
        description = "URL path the trap script requests when it runs (its query is a nonce).";
      };
    };

    markdownTwins.enable = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Answer a request that asks for `text/markdown` with the page's Markdown twin when the
        site has one (`/foo.md` for `/foo.html`, `/dir/index.md` for `/dir/`), served as
        `text/markdown` with `Vary: Accept`. Pages without a twin are served as before.
        Needs the virtual host's `root`.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = config.services.nginx.enable;
        message = "services.honeybot.nginx.enable configures nginx's access log, but services.nginx.enable is false: enable nginx or turn this off.";
      }
      {
        assertion = !cfg.trap.enable || cfg.trap.path != cfg.trap.beaconPath;
        message = "services.honeybot.nginx.trap.path and trap.beaconPath are both ${cfg.trap.path}: give the beacon its own path.";
      }
    ] ++ map
      (name: {
        assertion = !cfg.markdownTwins.enable || config.services.nginx.virtualHosts.${name}.root != null;
        message = "services.honeybot.nginx.markdownTwins.enable needs services.nginx.virtualHosts.\"${name}\".root (the twins are looked up beside the pages): set it, or remove \"${name}\" from services.honeybot.nginx.virtualHosts.";
      })
      cfg.virtualHosts;

    services.nginx.commonHttpConfig = mkMerge [
      (render ./nginx/http.conf { inherit (cfg) accessLog; })
      # After map_hash_bucket_size, which nixpkgs renders before commonHttpConfig.
      (mkIf redirects (mkAfter (render ./nginx/redirects-http.conf { map = janitor.settings.map; })))
    ];
    # The janitor's keys are up to 110 bytes long; nginx's default bucket (the CPU's cache
    # line, 64 bytes) would refuse them.
    services.nginx.mapHashBucketSize = mkIf redirects (mkDefault 128);

    services.nginx.virtualHosts = mkMerge [
      (genAttrs cfg.virtualHosts (_: {
        extraConfig = serverConfig;
      }))
      (mkIf redirects (genAttrs janitor.virtualHosts (_: {
        # First in the server: a healed path is redirected before anything else looks at it.
        extraConfig = mkBefore (builtins.readFile ./nginx/redirects-server.conf);
      })))
    ];

    services.honeybot.ingest.settings.logs = lib.mkDefault [ cfg.accessLog ];
    # The ingester reads exactly the format nginx writes: the definition in nginx/http.conf.
    services.honeybot.ingest.settings.log_format = lib.mkDefault logFormat;
    # ... and stores the trap's hits under the paths nginx serves them at.
    services.honeybot.ingest.settings.trap_path = lib.mkIf cfg.trap.enable (lib.mkDefault cfg.trap.path);
    services.honeybot.ingest.settings.beacon_path = lib.mkIf cfg.trap.enable (lib.mkDefault cfg.trap.beaconPath);
  };
}
