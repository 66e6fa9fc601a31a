# Makes nginx write the Honeybot extended access-log format that honeybot-ingest reads:
# combined + Accept:"$http_accept" MarkdownServed:$serve_markdown.
{ config
, lib
, ...
}:
let
  inherit (lib) mkEnableOption mkOption mkIf types;
  cfg = config.services.honeybot.nginx;
in
{
  options.services.honeybot.nginx = {
    enable = mkEnableOption "the Honeybot access-log format in nginx (needed for the bot reports)";
    accessLog = mkOption {
      type = types.str;
      default = "/var/log/nginx/access.log";
      description = "Access log nginx writes in the Honeybot format (followed by honeybot-ingest).";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = config.services.nginx.enable;
        message = "services.honeybot.nginx.enable configures nginx's access log, but services.nginx.enable is false: enable nginx or turn this off.";
      }
    ];

    services.nginx.commonHttpConfig = ''
      # Honeybot: which requests asked for markdown (AI agents do).
      map $http_accept $serve_markdown {
        default 0;
        "~*text/markdown" 1;
      }
      log_format honeybot '$remote_addr - $remote_user [$time_local] "$request" '
                          '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                          'Accept:"$http_accept" MarkdownServed:$serve_markdown';
      access_log ${cfg.accessLog} honeybot;
    '';

    services.honeybot.ingest.settings.logs = lib.mkDefault [ cfg.accessLog ];
  };
}
