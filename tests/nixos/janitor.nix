# NixOS VM test: a dead link on the web head heals itself. A path of an old URL scheme is
# requested a few times (404s that nginx logs and honeybot-ingest stores); the timer's
# service runs; the same request then gets a real 301 to the live page, served by nginx
# after the janitor's map was tested with the real config and nginx reloaded. A map nginx
# refuses is put back to the previous one, and nginx keeps serving. The map is also committed
# to the site's git repository (gitCommit), owned by root and trusted for the janitor only.
{ pkgs }:
pkgs.testers.runNixOSTest {
  name = "honeybot-janitor";

  # The machine lives in ../eval/janitor-node.nix, so that scripts/check-nix.sh can evaluate
  # it offline (tests/eval/janitor-vm.nix).
  nodes.webhead = {
    imports = [ ../eval/janitor-node.nix ];
    # A map nginx cannot load (the block is never closed), for the refused-map subtest.
    environment.etc."honeybot-test/broken.map".text = "map $uri $honeybot_redirect {\n    default \"\";\n";
  };

  testScript =
    { nodes, ... }:
    let
      hb = nodes.webhead.services.honeybot;
      db = hb.ingest.settings.db;
      map = hb.janitor.settings.map;
      user = hb.user;
      repo = hb.janitor.gitCommit.repo;
    in
    ''
      DEAD = "/2019/03/nginx-redirect-maps.html"
      LIVE = "/blog/2019/03/nginx-redirect-maps/"

      def answer(path):
          """(status, Location) nginx gives for path."""
          out = webhead.succeed(
              f"curl -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}' http://localhost{path}").split()
          return out[0], (out[1] if len(out) > 1 else "")

      def redirected():
          status, location = answer(DEAD)
          return status == "301" and location.endswith(LIVE)

      def site_git(args):
          return webhead.succeed(f"git -C ${repo} {args}")

      webhead.wait_for_unit("nginx.service")
      webhead.wait_for_unit("honeybot-ingest.service")
      webhead.wait_for_unit("honeybot-janitor.timer")
      webhead.wait_for_open_port(80)

      with subtest("before the first run: nginx includes an empty map, the old URL is a 404"):
          webhead.succeed("test -f ${map}")
          webhead.succeed("grep -q 'map $uri $honeybot_redirect' ${map}")
          for _ in range(${toString hb.janitor.settings.min_hits}):
              assert answer(DEAD)[0] == "404", answer(DEAD)
          assert answer(LIVE)[0] == "200", answer(LIVE)
          webhead.wait_until_succeeds(
              f"test $(sqlite3 ${db} \"SELECT COALESCE(SUM(d.count), 0) FROM daily_logs d JOIN paths p ON p.id = d.path_id WHERE d.status = 404 AND p.value = '{DEAD}'\") -ge ${toString hb.janitor.settings.min_hits}",
              timeout=60)

      with subtest("the site's repository: root's, group-writable for the janitor's user"):
          webhead.succeed(
              "install -d -m 2775 -g ${hb.group} ${repo}",
              "git -C ${repo} init --quiet --shared=group",
              "git -C ${repo} -c user.name=Owner -c user.email=owner@example.org commit --quiet --allow-empty -m 'the site'",
              "chgrp -R ${hb.group} ${repo} && chmod -R g+rwX ${repo}",
              "find ${repo} -type d -exec chmod g+s {} +",
          )
          before = site_git("rev-parse HEAD").strip()

      with subtest("the timer is scheduled, persistent"):
          timers = webhead.succeed("systemctl list-timers --all --no-pager")
          assert "honeybot-janitor.timer" in timers, timers
          webhead.succeed("systemctl show -p Persistent --value honeybot-janitor.timer | grep -qx yes")

      with subtest("the timer's service turns the 404 into a real 301 to the live page"):
          webhead.succeed("systemctl start honeybot-janitor.service")  # a oneshot: returns when done
          webhead.log(webhead.succeed("journalctl -u honeybot-janitor.service --no-pager | tail -n 20"))
          webhead.succeed(f"grep -F '{LIVE}' ${map}")
          webhead.succeed("test -f ${map}.previous")
          # The map changed: honeybot-janitor-reload.path tests nginx's config and reloads it.
          webhead.wait_until_succeeds(
              f"curl -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}' http://localhost{DEAD} | grep -q '^301 .*{LIVE}$'",
              timeout=60)
          webhead.wait_until_succeeds(
              "systemctl show -p Result --value honeybot-janitor-reload.service | grep -qx success", timeout=60)
          assert answer(LIVE)[0] == "200", answer(LIVE)
          assert answer("/never-asked-before")[0] == "404"

      with subtest("the map is committed to the site's repository, by the janitor"):
          assert site_git("rev-parse HEAD^").strip() == before
          log = site_git("log -1 --format='%an%n%s%n%b'")
          webhead.log(log)
          assert log.startswith("honeybot-janitor\nhoneybot-janitor: 1 redirect(s) (+1 -0)"), log
          assert DEAD in log, log
          webhead.succeed("cmp ${map} ${repo}/${hb.janitor.gitCommit.path}")

      with subtest("the decision is in HoneyDB, for a person to review"):
          listed = webhead.succeed("runuser -u ${user} -- honeybot-janitor --db ${db} list")
          webhead.log(listed)
          assert f"{DEAD} -> {LIVE}" in listed, listed

      with subtest("a map nginx refuses is put back, and nginx keeps serving the 301"):
          webhead.succeed("cp ${map} /tmp/good.map")
          webhead.succeed(
              "runuser -u ${user} -- sh -c 'cp ${map} ${map}.previous"
              " && cp /etc/honeybot-test/broken.map ${map}.new && mv -f ${map}.new ${map}'")
          webhead.wait_until_succeeds("cmp -s ${map} /tmp/good.map", timeout=60)
          webhead.succeed("test ! -e ${map}.previous")
          webhead.succeed("journalctl -u honeybot-janitor-reload.service --no-pager | grep -q 'test failed'")
          webhead.wait_for_unit("nginx.service")
          webhead.succeed("systemctl is-active nginx.service")
          # Old and new workers alike serve the map nginx never stopped using.
          assert redirected(), answer(DEAD)

      with subtest("the janitor's sandbox"):
          for unit in ["honeybot-janitor", "honeybot-janitor-reload", "honeybot-janitor-restore"]:
              out = webhead.succeed(f"systemd-analyze security {unit}.service | tail -n 1")
              webhead.log(out)
              exposure = float(out.split()[-3])
              assert exposure <= 2.0, f"{unit}: exposure {exposure} above 2.0"
    '';
}
