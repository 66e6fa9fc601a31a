# Example workstation: the author's machine, where ai-commit writes commit messages with a
# local model and the narrator reads articles aloud. Evaluated as a flake check.
{ pkgs, ... }:
let
  honeybot = pkgs.callPackage ../nix/programs.nix { };
in
{
  imports = [
    ./base.nix
    ../modules
  ];

  networking.hostName = "honeybot-workstation";

  users.users.alice = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
  };

  # The local model ai-commit talks to (listens on 127.0.0.1:11434 only).
  services.ollama = {
    enable = true;
    loadModels = [ "gemma3:4b" ];
  };

  # /etc/xdg/ai-commit/config.toml, pointed at the Ollama above; new repositories get the
  # prepare-commit-msg hook (undo: gitHook = "none", see docs/operations.md).
  programs.ai-commit = {
    enable = true;
    settings = {
      model = "gemma3:4b";
      exclude = [ "*.lock" ];
    };
    gitHook = "init-template";
  };

  # The `honeybot` CLI for reports on a copy of the web head's HoneyDB.
  environment.systemPackages = [ honeybot.honeybot ];

  # Articles read aloud into a null sink named "honeybot" that OBS captures
  # (docs/narrator.md shows the PulseAudio / PipeWire side).
  services.pipewire = {
    enable = true;
    pulse.enable = true;
  };
  services.honeybot.narrator = {
    enable = true;
    users = [ "alice" ];
    settings = {
      piper.model = "/var/lib/voices/en_US-joe-medium.onnx";
      sink.device = "honeybot";
      pronunciations.Honeybot = "Honey bot";
    };
  };
}
