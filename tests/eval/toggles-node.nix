# The machine of the VM test tests/nixos/toggles.nix: everything on, with two
# specialisations to switch to (ingest off; everything off). Also evaluated offline by
# tests/eval/toggles.nix (scripts/check-nix.sh).
{ lib, pkgs, ... }:
{
  imports = [ ../../modules ];
  services.nginx = {
    enable = true;
    virtualHosts.localhost.locations."/".return = "200 'hello\\n'";
  };
  users.users.show.isNormalUser = true;
  services.honeybot = {
    nginx.enable = true;
    ingest = {
      enable = true;
      settings.flush_interval_ms = 200;
    };
    narrator = {
      enable = true;
      users = [ "show" ];
      settings.engine = "espeak-ng";
    };
  };
  programs.ai-commit.enable = true;
  environment.systemPackages = [
    pkgs.curl
    pkgs.sqlite
  ];

  specialisation.ingest-off.configuration = {
    services.honeybot.ingest.enable = lib.mkForce false;
  };
  specialisation.all-off.configuration = {
    services.honeybot = {
      nginx.enable = lib.mkForce false;
      ingest.enable = lib.mkForce false;
      narrator.enable = lib.mkForce false;
    };
    programs.ai-commit.enable = lib.mkForce false;
  };
}
