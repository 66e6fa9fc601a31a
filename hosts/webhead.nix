# Example web head: nginx serves a static site, Honeybot records every request.
# Evaluated as a check (flake `checks.*.host-webhead`) so it keeps working.
{ ... }:
{
  imports = [
    ./base.nix
    ../modules
  ];

  networking.hostName = "honeybot-webhead";

  services.nginx = {
    enable = true;
    virtualHosts."example.org" = {
      root = "/var/www/example.org";
    };
  };
  networking.firewall.allowedTCPPorts = [ 80 ];

  services.honeybot = {
    nginx = {
      enable = true;
      virtualHosts = [ "example.org" ];
      markdownTwins.enable = true;
    };
    ingest = {
      enable = true;
      settings.ip_mode = "hash";
      # Created once by the operator: `install -m 0400 /dev/null /var/lib/secrets/honeybot-ip-key`
      # then `head -c 32 /dev/urandom > /var/lib/secrets/honeybot-ip-key`.
      ipHashKeyFile = "/var/lib/secrets/honeybot-ip-key";
    };
  };
}
