# NixOS VM test: nginx writes the Honeybot format, honeybot-ingest follows it through
# rotation and a SIGKILL, and HoneyDB holds every request exactly once.
{ pkgs }:
pkgs.testers.runNixOSTest {
  name = "honeybot-ingest";

  nodes.webhead =
    { pkgs, ... }:
    {
      imports = [ ../../modules ];
      services.nginx = {
        enable = true;
        virtualHosts.localhost.locations."/".return = "200 'hello\\n'";
      };
      services.honeybot = {
        nginx.enable = true;
        ingest = {
          enable = true;
          settings.flush_interval_ms = 200;
        };
      };
      environment.systemPackages = [
        pkgs.curl
        pkgs.sqlite
      ];
    };

  testScript =
    { nodes, ... }:
    let
      db = nodes.webhead.services.honeybot.ingest.settings.db;
      log = nodes.webhead.services.honeybot.nginx.accessLog;
    in
    ''
      def total():
          return int(webhead.succeed("sqlite3 ${db} 'SELECT COALESCE(SUM(count), 0) FROM daily_logs'").strip())

      def send(n, tag):
          for i in range(n):
              webhead.succeed(f"curl -sf -A 'Mozilla/5.0 (compatible; GPTBot/1.2)' http://localhost/{tag}-{i}")

      def expect(n):
          webhead.wait_until_succeeds(
              f"test \"$(sqlite3 ${db} 'SELECT COALESCE(SUM(count), 0) FROM daily_logs')\" -eq {n}", timeout=30)

      webhead.wait_for_unit("nginx.service")
      webhead.wait_for_unit("honeybot-ingest.service")

      with subtest("requests sent to nginx are counted in HoneyDB"):
          send(20, "first")
          expect(20)
          webhead.succeed("sqlite3 ${db} \"SELECT value FROM user_agents\" | grep -q GPTBot")

      with subtest("rename-and-reopen rotation loses nothing"):
          webhead.succeed("mv ${log} ${log}.1")
          webhead.succeed("systemctl kill -s USR1 nginx.service")  # nginx -s reopen
          webhead.wait_until_succeeds("test -e ${log}")
          send(10, "rotated")
          expect(30)

      with subtest("SIGKILL and restart count nothing twice"):
          webhead.succeed("systemctl kill -s KILL honeybot-ingest.service")
          send(5, "while-down")
          webhead.wait_for_unit("honeybot-ingest.service")
          expect(35)
          send(1, "after")
          expect(36)
          assert total() == 36, f"expected 36 requests, HoneyDB has {total()}"

      with subtest("reload re-reads the config without losing lines"):
          webhead.succeed("systemctl reload honeybot-ingest.service")
          send(4, "reloaded")
          expect(40)

      with subtest("the service is hardened"):
          out = webhead.succeed("systemd-analyze security honeybot-ingest.service | tail -n 1")
          webhead.log(out)
          exposure = float(out.split()[-3])
          assert exposure <= 2.0, f"exposure {exposure} above 2.0"
    '';
}
