import { h, Html } from '../html/jsx';
import { PageContext } from '../pages/layout';
import { ConsoleLayout, ConsolePublisher } from './layout';

export type ConsoleNotice = { text: string; error?: boolean };

export interface ConsoleChartRow {
  name: string;
  liveVersions: number;
  latestVersion: string | null;
  /** "49.00 EUR", "Free", or null when the chart has no listing yet. */
  price: string | null;
  published: boolean;
  downloads: number;
}

export interface ConsoleVersionRow {
  version: string;
  appVersion: string | null;
  size: number;
  digest: string;
  signed: boolean;
  created: string;
  yanked: string | null;
  downloads: number;
}

export interface ListingForm {
  /** The price as typed, in the currency's major unit ("49.00"). */
  price: string;
  currency: string;
  policy: string;
  months: string;
  published: boolean;
}

const kib = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);

export function ConsoleChartsPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  charts: ConsoleChartRow[];
  notice?: ConsoleNotice;
}): Html {
  const base = `${props.ctx.basePath}/console/${props.publisher.slug}`;
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="Charts"
      publisher={props.publisher}
      section="charts"
      notice={props.notice}
    >
      {props.charts.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Chart</th>
              <th scope="col">Versions</th>
              <th scope="col">Latest</th>
              <th scope="col">Listing</th>
              <th scope="col">Downloads (30 days)</th>
            </tr>
          </thead>
          <tbody>
            {props.charts.map((c) => (
              <tr>
                <td>
                  <a href={`${base}/charts/${encodeURIComponent(c.name)}`}>{c.name}</a>
                </td>
                <td>{c.liveVersions}</td>
                <td>{c.latestVersion ?? '—'}</td>
                <td>{c.price === null ? 'Not listed' : `${c.price}${c.published ? '' : ' (draft)'}`}</td>
                <td>{c.downloads}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No chart yet. Upload the first version below, or with `helm cm-push`.</p>
      )}
      <h2>Upload a version</h2>
      <form method="post" action={`${base}/charts/upload`} enctype="multipart/form-data" class="buy narrow">
        <label for="upload-chart">Chart archive (.tgz)</label>
        <input id="upload-chart" type="file" name="chart" accept=".tgz,application/gzip" required />
        <label for="upload-prov">Provenance file (.prov, optional)</label>
        <input id="upload-prov" type="file" name="prov" accept=".prov" />
        <button type="submit">Upload</button>
      </form>
    </ConsoleLayout>
  );
}

const POLICIES = [
  ['all', 'Every version, and every future release'],
  ['major', 'Updates within the major version bought'],
  ['minor', 'Updates within the minor version bought'],
  ['window', 'Updates released within a number of months'],
] as const;

export function ConsoleChartPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  chart: string;
  versions: ConsoleVersionRow[];
  listing: ListingForm;
  /** The update policy as a buyer reads it on the chart page; null before the chart is listed. */
  policySentence: string | null;
  listed: boolean;
  currencies: string[];
  notice?: ConsoleNotice;
}): Html {
  const base = `${props.ctx.basePath}/console/${props.publisher.slug}/charts/${encodeURIComponent(props.chart)}`;
  const l = props.listing;
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title={props.chart}
      publisher={props.publisher}
      section="charts"
      notice={props.notice}
    >
      <h2>Listing</h2>
      {props.policySentence ? (
        <p>
          Buyers read: <q>{props.policySentence}</q>{' '}
          {props.listed ? <a href={`${base}/preview`}>Preview the chart page</a> : null}
        </p>
      ) : null}
      <form method="post" action={`${base}/listing`} class="buy narrow">
        <label for="listing-price">Price (0 for a free chart)</label>
        <input id="listing-price" type="text" inputmode="decimal" name="price" required value={l.price} />
        <label for="listing-currency">Currency</label>
        <select id="listing-currency" name="currency">
          {props.currencies.map((c) => (
            <option value={c} selected={c === l.currency}>
              {c.toUpperCase()}
            </option>
          ))}
        </select>
        <fieldset>
          <legend>Updates a license includes</legend>
          {POLICIES.map(([value, label]) => (
            <label class="choice">
              <input type="radio" name="policy" value={value} checked={l.policy === value} /> {label}
            </label>
          ))}
          <label for="listing-months">Months (for the last choice)</label>
          <input id="listing-months" type="number" name="months" min={1} max={120} value={l.months} />
        </fieldset>
        <label class="choice">
          <input type="checkbox" name="published" value="on" checked={l.published} /> Published (on sale, in
          the catalog)
        </label>
        <button type="submit">Save listing</button>
      </form>
      <h2>Versions</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">App</th>
            <th scope="col">Uploaded</th>
            <th scope="col">Size</th>
            <th scope="col">Digest</th>
            <th scope="col">Signed</th>
            <th scope="col">Downloads</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {props.versions.map((v) => (
            <tr>
              <td>{v.version}</td>
              <td>{v.appVersion ?? '—'}</td>
              <td>{v.created}</td>
              <td>{kib(v.size)}</td>
              <td>
                <code title={v.digest}>{v.digest.slice(0, 12)}</code>
              </td>
              <td>{v.signed ? 'Signed' : 'No'}</td>
              <td>{v.downloads}</td>
              <td>
                {v.yanked ? (
                  `Yanked ${v.yanked}`
                ) : (
                  <form method="post" action={`${base}/versions/${encodeURIComponent(v.version)}/yank`}>
                    <button type="submit" class="secondary" aria-label={`Yank ${v.version}`}>
                      Yank
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ConsoleLayout>
  );
}
