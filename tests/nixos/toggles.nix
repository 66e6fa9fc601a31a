# NixOS VM test: switching Honeybot on and off with specialisations, the way a user toggles
# it with `nixos-rebuild switch` — everything on; ingest off; everything on again; everything
# off; on again. Units appear and disappear, /var/lib/honeybot and its counts survive every
# switch (ingest catches up on what nginx logged while it was off), and a config the daemon's
# own loader refuses fails the build, so it never reaches the machine.
{ pkgs }:
let
  inherit (pkgs) lib;

  # A narrator setting Nix's types accept but the daemon refuses (at most 10000 ms): its
  # config file derivation must fail to build. This machine's closure depends on that failure
  # (testBuildFailure succeeds only when the build fails), so the test cannot even start if a
  # bad config would build.
  badConfig = lib.head (pkgs.nixos {
    imports = [ ../../modules ];
    services.honeybot.narrator = {
      enable = true;
      users = [ "show" ];
      settings = {
        engine = "espeak-ng";
        sentence_gap_ms = 60000;
      };
    };
  }).config.systemd.user.services.honeybot-narrator.restartTriggers;
  refused = pkgs.testers.testBuildFailure badConfig;
in
pkgs.testers.runNixOSTest {
  name = "honeybot-toggles";

  # The machine and its specialisations live in ../eval/toggles-node.nix, so that
  # scripts/check-nix.sh can evaluate them offline (tests/eval/toggles.nix).
  nodes.machine = {
    imports = [ ../eval/toggles-node.nix ];
    environment.etc."honeybot-test/refused.log".source = "${refused}/testBuildFailure.log";
  };

  testScript =
    { nodes, ... }:
    let
      db = nodes.machine.services.honeybot.ingest.settings.db;
    in
    ''
      def total():
          return int(machine.succeed("sqlite3 ${db} 'SELECT COALESCE(SUM(count), 0) FROM daily_logs'").strip())

      def send(n, tag):
          for i in range(n):
              machine.succeed(f"curl -sf -A 'Mozilla/5.0 (compatible; GPTBot/1.2)' http://localhost/{tag}-{i}")

      def expect(n):
          machine.wait_until_succeeds(
              f"test \"$(sqlite3 ${db} 'SELECT COALESCE(SUM(count), 0) FROM daily_logs')\" -eq {n}", timeout=60)

      def switch(name):
          # What `nixos-rebuild switch` does after building: activate another generation.
          path = "/run/booted-system" + ("" if name is None else f"/specialisation/{name}")
          machine.succeed(f"{path}/bin/switch-to-configuration test")

      def inode():
          return machine.succeed("stat -c %i ${db}").strip()

      def honeybot_units():
          return machine.succeed("systemctl list-unit-files --no-legend 'honeybot*' || true").strip()

      machine.wait_for_unit("nginx.service")
      machine.wait_for_unit("honeybot-ingest.service")

      with subtest("everything on: requests are counted, every unit and file is there"):
          send(10, "on")
          expect(10)
          db_inode = inode()
          machine.succeed("test -e /etc/systemd/user/honeybot-narrator.service")
          machine.succeed("test -e /etc/xdg/ai-commit/config.toml")

      with subtest("ingest off: its unit is gone, the data stays, nginx keeps logging"):
          switch("ingest-off")
          machine.fail("systemctl is-active honeybot-ingest.service")
          machine.fail("systemctl cat honeybot-ingest.service")
          machine.succeed("test -e /etc/systemd/user/honeybot-narrator.service")
          send(5, "while-off")
          assert total() == 10, f"ingest is off, yet HoneyDB went from 10 to {total()}"

      with subtest("everything on again: ingest catches up on what nginx logged meanwhile"):
          switch(None)
          machine.wait_for_unit("honeybot-ingest.service")
          expect(15)
          assert inode() == db_inode, "HoneyDB was replaced by the switch"

      with subtest("everything off: no honeybot unit is left, the data is"):
          switch("all-off")
          units = honeybot_units()
          assert units == "", f"honeybot units left after switching everything off: {units}"
          machine.fail("test -e /etc/systemd/user/honeybot-narrator.service")
          machine.fail("test -e /etc/xdg/ai-commit/config.toml")
          machine.succeed("test -d /var/lib/honeybot")
          assert total() == 15, f"HoneyDB holds {total()} requests after switching off, expected 15"

      with subtest("on again after all-off: the same data, counting resumes"):
          switch(None)
          machine.wait_for_unit("honeybot-ingest.service")
          send(1, "back")
          expect(16)
          assert inode() == db_inode, "HoneyDB was replaced by the switch"

      with subtest("a config the daemon refuses failed the build and never reached the machine"):
          log = machine.succeed("cat /etc/honeybot-test/refused.log")
          machine.log(log)
          assert "sentence_gap_ms" in log, "the refused build does not name the bad key"
          running = machine.succeed(
              "grep -o '/nix/store/[^ ]*-honeybot-narrator.toml' /etc/systemd/user/honeybot-narrator.service").strip()
          machine.fail(f"grep -q sentence_gap_ms {running}")
    '';
}
