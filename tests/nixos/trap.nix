# NixOS VM test: the web head serves Honeybot's trap.js, its beacon and the Markdown twins
# as modules/nginx.nix renders them for a virtual host (the same checks as
# crates/honeybot/tests/watch_nginx.rs, here against the NixOS nginx service).
{ pkgs }:
pkgs.testers.runNixOSTest {
  name = "honeybot-trap";

  nodes.webhead =
    { pkgs, ... }:
    {
      imports = [ ../../modules ];
      services.nginx = {
        enable = true;
        virtualHosts.localhost.root = pkgs.runCommand "site" { } ''
          mkdir -p $out/docs
          echo '<script src="/trap.js" defer></script><p>home</p>' > $out/index.html
          printf '# Home\n' > $out/index.md
          echo '<p>guide</p>' > $out/docs/guide.html
          printf '# Guide\n' > $out/docs/guide.md
          echo '<p>about</p>' > $out/about.html
        '';
      };
      services.honeybot.nginx = {
        enable = true;
        virtualHosts = [ "localhost" ];
        markdownTwins.enable = true;
      };
      environment.systemPackages = [ pkgs.curl ];
    };

  testScript =
    { nodes, ... }:
    let
      cfg = nodes.webhead.services.honeybot.nginx;
      log = cfg.accessLog;
    in
    ''
      webhead.wait_for_unit("nginx.service")
      webhead.wait_for_open_port(80)

      def head(args):
          return webhead.succeed(f"curl -sS -o /dev/null -D - {args}").lower()

      with subtest("trap.js is served as JavaScript and names the beacon"):
          h = head("http://localhost${cfg.trap.path}")
          assert "200" in h.splitlines()[0], h
          assert "content-type: application/javascript; charset=utf-8" in h, h
          body = webhead.succeed("curl -sS http://localhost${cfg.trap.path}")
          assert '"${cfg.trap.beaconPath}?n="' in body, body

      with subtest("the beacon answers 204 no-store"):
          h = head("'http://localhost${cfg.trap.beaconPath}?n=vm-1'")
          assert "204" in h.splitlines()[0], h
          assert "cache-control: no-store" in h, h
          webhead.succeed("grep -q 'GET ${cfg.trap.beaconPath}?n=vm-1 ' ${log}")

      with subtest("Markdown twins for who asks, HTML for the rest, Vary: Accept"):
          md = "-H 'Accept: text/markdown'"
          assert webhead.succeed(f"curl -sS {md} http://localhost/") == "# Home\n"
          assert webhead.succeed(f"curl -sS {md} http://localhost/docs/guide.html") == "# Guide\n"
          h = head(f"{md} http://localhost/")
          assert "content-type: text/markdown; charset=utf-8" in h, h
          assert "vary: accept" in h, h
          assert "home" in webhead.succeed("curl -sS http://localhost/")
          assert "vary: accept" in head("http://localhost/")
          assert "about" in webhead.succeed(f"curl -sS {md} http://localhost/about.html")
          webhead.succeed(f"test $(curl -s -o /dev/null -w '%{{http_code}}' {md} http://localhost/.honeybot-markdown/index.md) = 404")
    '';
}
