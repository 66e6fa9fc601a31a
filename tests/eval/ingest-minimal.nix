# honeybot-ingest alone (no nginx), for ../shared/tools/nixos-eval-check.sh: the stub
# package set cannot evaluate nixpkgs' nginx module, so the web head's own service is
# checked here without it; hosts/webhead.nix is evaluated for real by `nix flake check`.
{
  imports = [ ../../hosts/base.nix ../../modules ];
  services.honeybot.ingest = {
    enable = true;
    settings = {
      logs = [ "/var/log/nginx/access.log" ];
      ip_mode = "truncate";
      flush_interval_ms = 250;
    };
  };
}
