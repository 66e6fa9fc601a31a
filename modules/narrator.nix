# honeybot-narrator: reads articles and events aloud in a user's session (a systemd *user*
# service: it needs that user's audio server), with a control socket in $XDG_RUNTIME_DIR for
# the director and for `honeybot-narrator say`. Started only for the users named in `users`.
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
    mkRenamedOptionModule
    types
    literalExpression
    optional
    ;
  hbLib = import ./lib.nix { inherit lib pkgs; };
  cfg = config.services.honeybot.narrator;
  settingsFormat = pkgs.formats.toml { };
  dropNulls = lib.filterAttrsRecursive (_: v: v != null);
  rendered = dropNulls cfg.settings;
  sink = cfg.settings.sink;

  # Validated at build time, so a bad config fails nixos-rebuild, not the user's session.
  configFile =
    pkgs.runCommand "honeybot-narrator.toml"
      {
        nativeBuildInputs = [ cfg.package ];
        raw = settingsFormat.generate "honeybot-narrator-unchecked.toml" rendered;
      }
      ''
        honeybot-narrator check-config --config "$raw"
        cp "$raw" "$out"
      '';

  # Folders the daemon writes besides its socket in $XDG_RUNTIME_DIR (%t).
  writable =
    [ "%t" ]
    ++ optional ((rendered.socket or null) != null) (dirOf rendered.socket)
    ++ optional ((sink.kind or "player") == "wav" && (sink.dir or null) != null) sink.dir;

  old = name: [ "services" "honeybot" "narrator" ] ++ name;
  new = name: [ "services" "honeybot" "narrator" "settings" ] ++ name;
in
{
  imports = [
    (mkRenamedOptionModule (old [ "engine" ]) (new [ "engine" ]))
    (mkRenamedOptionModule (old [ "fallback" ]) (new [ "fallback" ]))
    (mkRenamedOptionModule (old [ "voiceModel" ]) (new [ "piper" "model" ]))
    (mkRenamedOptionModule (old [ "sink" "player" ]) (new [ "sink" "player" ]))
    (mkRenamedOptionModule (old [ "sink" "device" ]) (new [ "sink" "device" ]))
    (mkRenamedOptionModule (old [ "pronunciations" ]) (new [ "pronunciations" ]))
  ];

  options.services.honeybot.narrator = {
    enable = mkEnableOption "honeybot-narrator, the text-to-speech voice of the show (a systemd user service)";

    package = hbLib.packageOption "honeybot-narrator" "The honeybot-narrator package (wrapped with piper, espeak-ng and the paplay, pw-play and aplay players).";

    users = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "show" ];
      description = ''
        Users whose session runs the narrator (`ConditionUser=`): the user unit is installed
        for everyone but starts only for these. Usually the one auto-login user of the show.
      '';
    };

    settings = mkOption {
      description = ''
        honeybot-narrator configuration, rendered to TOML (see docs/narrator.md for every key).
        Keys not declared below are passed through as written; the daemon rejects unknown keys,
        and the rendered file is checked with `honeybot-narrator check-config` at build time.
      '';
      default = { };
      example = literalExpression ''
        {
          engine = "piper";
          piper.model = "/var/lib/voices/en_US-joe-medium.onnx";
          sink = { player = "pw-play"; device = "honeybot"; };
          sentence_gap_ms = 300;
          pronunciations.Honeybot = "Honey bot";
        }
      '';
      type = types.submodule {
        freeformType = settingsFormat.type;
        options = {
          engine = mkOption {
            type = types.enum [
              "piper"
              "espeak-ng"
            ];
            default = "piper";
            description = "Text-to-speech engine: piper (neural, needs `piper.model`) or espeak-ng (light, robotic).";
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
          piper = mkOption {
            default = { };
            description = "Piper settings (`[piper]`; further keys such as `length_scale` pass through).";
            type = types.submodule {
              freeformType = settingsFormat.type;
              options.model = mkOption {
                type = types.nullOr types.str;
                default = null;
                example = "/var/lib/voices/en_US-joe-medium.onnx";
                description = "Piper voice model (`.onnx`, with its `.onnx.json` beside it), readable by the users in `users`. Required when `engine = \"piper\"`.";
              };
            };
          };
          sink = mkOption {
            default = { };
            description = "Where the audio goes (`[sink]`; further keys such as `buffer_ms` pass through).";
            type = types.submodule {
              freeformType = settingsFormat.type;
              options = {
                player = mkOption {
                  type = types.enum [
                    "paplay"
                    "pw-play"
                    "aplay"
                    "command"
                  ];
                  default = "paplay";
                  description = "Program that plays the audio: paplay (PulseAudio or pipewire-pulse), pw-play (PipeWire), aplay (ALSA) — all three on the package's PATH — or `command` (`sink.command`, a program of your own).";
                };
                device = mkOption {
                  type = types.nullOr types.str;
                  default = null;
                  example = "honeybot";
                  description = "Sink or ALSA device to play to (e.g. a null sink that OBS captures); null: the default device.";
                };
              };
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
      };
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.settings.engine == "piper" -> cfg.settings.piper.model != null;
        message = "services.honeybot.narrator.settings.engine = \"piper\" needs services.honeybot.narrator.settings.piper.model (the path of a piper .onnx voice), or set settings.engine = \"espeak-ng\".";
      }
      {
        assertion = cfg.users != [ ];
        message = "services.honeybot.narrator.users is empty: name the user(s) whose session should speak, e.g. users = [ \"show\" ].";
      }
    ];

    environment.systemPackages = [ cfg.package ];

    systemd.user.services.honeybot-narrator = {
      description = "Honeybot narrator (text to speech)";
      documentation = [ "https://example.invalid/honeybot/docs/narrator.md" ];
      wantedBy = [ "default.target" ];
      after = [
        "pipewire-pulse.service"
        "pipewire.service"
        "pulseaudio.service"
      ];
      # Several ConditionUser= lines are ANDed; "|" makes them "any of".
      unitConfig.ConditionUser = map (u: "|${u}") cfg.users;
      restartTriggers = [ configFile ];
      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        ExecStart = "${lib.getExe' cfg.package "honeybot-narrator"} serve --config ${configFile}";
        Restart = "on-failure";
        RestartSec = "2s";
        TimeoutStopSec = "10s";

        # The sandbox a user unit can have. In a user manager the mount-namespace options
        # imply PrivateUsers= (unprivileged user namespaces, on by default in NixOS). The
        # audio servers are reached through sockets in $XDG_RUNTIME_DIR (connect() works on a
        # read-only mount); only the control socket is created there.
        ProtectSystem = "strict";
        ProtectHome = "read-only";
        ReadWritePaths = writable;
        PrivateTmp = true;
        PrivateUsers = true;
        PrivateMounts = true;
        KeyringMode = "private";
        # aplay writes to /dev/snd; the sound servers' clients need no device node.
        PrivateDevices = sink.player != "aplay";
        PrivateNetwork = true;
        RestrictAddressFamilies = [ "AF_UNIX" ];
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectHostname = true;
        ProtectClock = true;
        ProtectProc = "invisible";
        NoNewPrivileges = true;
        RestrictSUIDSGID = true;
        RestrictNamespaces = true;
        RestrictRealtime = true;
        LockPersonality = true;
        RemoveIPC = true;
        CapabilityBoundingSet = "";
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged"
        ];
        SystemCallErrorNumber = "EPERM";
        UMask = "0077";
        # Not set: MemoryDenyWriteExecute (piper's ONNX runtime is not verified without it)
        # ProcSubset=pid (the runtime reads /proc/cpuinfo to pick its kernels) and ~@resources
        # (it sets thread affinity).
      };
    };
  };
}
