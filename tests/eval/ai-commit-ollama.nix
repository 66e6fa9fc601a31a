# programs.ai-commit with the local Ollama on a non-default port, the old flat narrator option
# names (renamed to settings.*) and a HoneyDB outside /var/lib/honeybot
# The assertions at the end say what each must render (scripts/check-nix.sh: 0 failed).
{ config, lib, options, ... }:
let
  expect = what: ok: {
    assertion = ok;
    message = "expected: ${what}";
  };
  # tmpfiles rules of the Honeybot modules only (the full list needs packages the offline
  # stub set lacks).
  rules = lib.concatMap (d: d.value) (lib.filter (d: lib.hasPrefix (toString ../../modules) d.file)
    options.systemd.tmpfiles.rules.definitionsWithLocations);
  narrator = config.systemd.user.services.honeybot-narrator;
in
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.ollama = {
    enable = true;
    port = 11500;
  };
  programs.ai-commit = {
    enable = true;
    gitHook = "hooks-path";
  };
  services.honeybot = {
    dbPath = "/srv/honeybot/honeybot.db";
    ingest.enable = true;
    narrator = {
      enable = true;
      users = [ "alice" ];
      engine = "espeak-ng";
      sink.player = "aplay";
    };
  };

  assertions = [
    (expect "ai-commit's endpoint is the local Ollama's port"
      (config.programs.ai-commit.settings.endpoint == "http://127.0.0.1:11500"))
    (expect "core.hooksPath in /etc/gitconfig points at the hook folder"
      (lib.any (c: lib.hasSuffix "-ai-commit-git-template/hooks" (c.core.hooksPath or ""))
        config.programs.git.config))
    (expect "the HoneyDB folder outside /var/lib/honeybot is created, once"
      (rules == [ "d /srv/honeybot 0750 honeybot honeybot - -" ]))
    (expect "the old flat option engine lands in settings"
      (config.services.honeybot.narrator.settings.engine == "espeak-ng"))
    (expect "aplay keeps /dev/snd (PrivateDevices off)"
      (narrator.serviceConfig.PrivateDevices == false))
    (expect "the narrator starts only for alice"
      (narrator.unitConfig.ConditionUser == [ "|alice" ]))
  ];
}
