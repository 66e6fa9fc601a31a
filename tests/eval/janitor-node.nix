# The machine of the VM test tests/nixos/janitor.nix: nginx serves a small built site, the
# ingester counts its 404s, the janitor turns them into 301s. Also evaluated offline by
# tests/eval/janitor-vm.nix (scripts/check-nix.sh).
{ pkgs, ... }:
let
  page = title: "<!doctype html><html><head><title>${title}</title></head><body>${title}</body></html>";
in
{
  imports = [ ../../modules ];
  services.nginx = {
    enable = true;
    virtualHosts.localhost.root = pkgs.runCommand "honeybot-test-site" { } ''
      mkdir -p $out/blog/2019/03/nginx-redirect-maps $out/blog/2021/07/rust-error-handling \
        $out/projects/honeybot $out/about
      echo '${page "Home"}' > $out/index.html
      echo '${page "Redirect maps in nginx"}' > $out/blog/2019/03/nginx-redirect-maps/index.html
      echo '${page "Error handling in Rust"}' > $out/blog/2021/07/rust-error-handling/index.html
      echo '${page "Honeybot: a bot trap"}' > $out/projects/honeybot/index.html
      echo '${page "About me"}' > $out/about/index.html
    '';
  };
  services.honeybot = {
    nginx = {
      enable = true;
      virtualHosts = [ "localhost" ];
    };
    ingest = {
      enable = true;
      settings.flush_interval_ms = 200;
    };
    # settings.site defaults to the virtual host's root; the timer stays as in production,
    # the test starts the service itself.
    janitor = {
      enable = true;
      settings.min_hits = 3;
      # The site's repository belongs to root, group-writable for honeybot (the test makes
      # it): the janitor commits there only because the module makes git trust it.
      gitCommit = {
        enable = true;
        repo = "/srv/site-src";
        path = "nginx/redirects.map";
      };
    };
  };
  environment.systemPackages = [
    pkgs.curl
    pkgs.sqlite
    pkgs.git
  ];
}
