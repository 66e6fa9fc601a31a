# honeybot-narrator: reads articles and events aloud in the user's session (a systemd
# *user* service: it needs the user's audio server), with a control socket in
# $XDG_RUNTIME_DIR for the director and for `honeybot-narrator say`.
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
    ;
  hbLib = import ./lib.nix { inherit lib pkgs; };
  cfg = config.services.honeybot.narrator;
  settingsFormat = pkgs.formats.toml { };
  dropNulls = lib.filterAttrsRecursive (_: v: v != null);

  configFile = settingsFormat.generate "honeybot-narrator.toml" (dropNulls {
    inherit (cfg) engine fallback;
    piper = {
      model = cfg.voiceModel;
    };
    sink = {
      inherit (cfg.sink) player device;
    };
    pronunciations = if cfg.pronunciations == { } then null else cfg.pronunciations;
  });
in
{
  options.services.honeybot.narrator = {
    enable = mkEnableOption "honeybot-narrator, the text-to-speech voice of the show (a systemd user service)";

    package = hbLib.packageOption "honeybot-narrator" "The honeybot-narrator package (wrapped with piper, espeak-ng and the PulseAudio tools).";

    engine = mkOption {
      type = types.enum [
        "piper"
        "espeak-ng"
      ];
      default = "piper";
      description = "Text-to-speech engine: piper (neural, needs `voiceModel`) or espeak-ng (light, robotic).";
    };

    fallback = mkOption {
      type = types.enum [
        "piper"
        "espeak-ng"
        "none"
      ];
      default = "espeak-ng";
      description = "Engine that speaks while the main engine fails (missing model, crash); `none` stays silent and reports errors.";
    };

    voiceModel = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/var/lib/voices/en_US-joe-medium.onnx";
      description = "Piper voice model (`.onnx`, with its `.onnx.json` beside it). Required when `engine = \"piper\"`.";
    };

    sink = {
      player = mkOption {
        type = types.enum [
          "paplay"
          "pw-play"
          "aplay"
        ];
        default = "paplay";
        description = "Command that plays the audio.";
      };
      device = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "honeybot";
        description = "Sink or ALSA device to play to (e.g. a null sink that OBS captures); null: the default device.";
      };
    };

    pronunciations = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        Honeybot = "Honey bot";
      };
      description = "Words the engine mispronounces, and how to say them (added to the built-in table; \"\" removes an entry).";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.engine == "piper" -> cfg.voiceModel != null;
        message = "services.honeybot.narrator.engine = \"piper\" needs services.honeybot.narrator.voiceModel (the path of a piper .onnx voice), or set engine = \"espeak-ng\".";
      }
    ];

    environment.systemPackages = [ cfg.package ];

    systemd.user.services.honeybot-narrator = {
      description = "Honeybot narrator (text to speech)";
      wantedBy = [ "default.target" ];
      after = [
        "pipewire-pulse.service"
        "pulseaudio.service"
      ];
      restartTriggers = [ configFile ];
      serviceConfig = {
        Type = "notify";
        ExecStart = "${lib.getExe' cfg.package "honeybot-narrator"} serve --config ${configFile}";
        Restart = "on-failure";
        RestartSec = "2s";
        NoNewPrivileges = true;
        LockPersonality = true;
        SystemCallArchitectures = "native";
      };
    };
  };
}
