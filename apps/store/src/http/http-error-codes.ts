/** Stable error codes the HTTP edge itself answers with (the libraries declare their own). */
export enum HttpErrorCode {
  /** No route answers this method and path (also what /metrics answers where it is not served). */
  RouteNotFound = 'route_not_found',
  /** A JSON body nests arrays/objects deeper than MAX_JSON_DEPTH. */
  JsonTooDeep = 'json_too_deep',
  /** A route that reads its body raw found it already consumed (it cannot be read twice). */
  BodyAlreadyRead = 'body_already_read',
  /** /metrics asked for without (or with a wrong) METRICS_TOKEN. */
  MetricsTokenRequired = 'metrics_token_required',
}
