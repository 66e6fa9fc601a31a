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

  # The local model ai-commit talks to (listens on 127.0.0.1:11434 only).
  services.ollama.enable = true;

  environment.systemPackages = [
    honeybot.ai-commit
    honeybot.honeybot
  ];

  # Articles read aloud into a null sink named "honeybot" that OBS captures
  # (docs/narrator.md shows the PulseAudio / PipeWire side).
  services.honeybot.narrator = {
    enable = true;
    voiceModel = "/var/lib/voices/en_US-joe-medium.onnx";
    sink.device = "honeybot";
    pronunciations.Honeybot = "Honey bot";
  };
}
