// The data viewer: one shard of a stream read from a starting position, a page of records at a time,
// with GetShardIterator and GetRecords as a client calls them (so a principal without kms:Decrypt sees
// the API's KMSAccessDeniedException here, word for word).
import * as api from './api.js';
import {h, field, errorBox, table, busy, formatTime} from './ui.js';

const PAGE_LIMIT = 25;
// A record holds up to 1 MiB: a table cell shows its first bytes and says how long it is.
const SHOWN_BYTES = 4096;

const POSITIONS = [
  {type: 'TRIM_HORIZON', label: 'Trim horizon'},
  {type: 'LATEST', label: 'Latest'},
  {type: 'AT_SEQUENCE_NUMBER', label: 'At sequence number'},
  {type: 'AT_TIMESTAMP', label: 'At timestamp'},
];

/** All shards of the stream, following NextToken (which must come alone). */
async function listShards(streamName) {
  const shards = [];
  let request = {StreamName: streamName};
  for (;;) {
    const page = await api.kinesis('ListShards', request);
    shards.push(...(page.Shards || []));
    if (!page.NextToken) return shards;
    request = {NextToken: page.NextToken};
  }
}

function isOpen(shard) {
  return !(shard.SequenceNumberRange && shard.SequenceNumberRange.EndingSequenceNumber);
}

/**
 * The epoch seconds a "Timestamp" entry names: epoch seconds (or millis, by its size), or a date and time
 * read as UTC unless it names a zone — the arrival times the table shows can be pasted back as they are.
 */
export function parseTimestamp(text) {
  const value = text.trim();
  if (value === '') return null;
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    return n >= 1e11 ? n / 1000 : n;
  }
  let iso = value.replace(/\s*UTC$/i, 'Z').replace(/^(\d{4}-\d{2}-\d{2})[ T]/, '$1T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00Z';
  else if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)) iso += 'Z';
  const millis = Date.parse(iso);
  return Number.isNaN(millis) ? null : millis / 1000;
}

const utf8 = new TextDecoder('utf-8', {fatal: false, ignoreBOM: true});

/** Record bytes as text: UTF-8, every invalid sequence shown as U+FFFD. */
export function asText(bytes) {
  return utf8.decode(bytes);
}

/** Record bytes as hex, two digits a byte, space-separated. */
export function asHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function dataCell(record, mode) {
  let bytes;
  try {
    bytes = api.base64ToBytes(record.Data || '');
  } catch {
    return h('span', {class: 'note'}, 'Data is not valid base64');
  }
  const shown = bytes.length > SHOWN_BYTES ? bytes.subarray(0, SHOWN_BYTES) : bytes;
  const text = mode === 'hex' ? asHex(shown) : asText(shown);
  return [
    h('span', {class: ['mono', 'record-data']}, text),
    bytes.length > SHOWN_BYTES
      ? h('span', {class: 'note'}, ` … the first ${SHOWN_BYTES} of ${bytes.length} bytes`)
      : null,
    bytes.length === 0 ? h('span', {class: 'note'}, '(empty)') : null,
  ];
}

export async function render(view, params) {
  const streamName = params.stream;
  let alive = true;

  // What the last page left: the records shown and where the next page starts.
  let records = [];
  let nextIterator = null;
  let page = 0;
  let emptyText = 'Choose a shard and a starting position, then Get records.';

  const shardSelect = h('select', {name: 'shard', disabled: true}, h('option', {value: ''}, 'Loading shards…'));
  const positionSelect = h('select', {name: 'startingPosition'},
    POSITIONS.map((p) => h('option', {value: p.type}, p.label)));
  const sequenceInput = h('input', {type: 'text', name: 'sequenceNumber', autocomplete: 'off', spellcheck: 'false',
    inputmode: 'numeric'});
  const timestampInput = h('input', {type: 'text', name: 'timestamp', autocomplete: 'off', spellcheck: 'false'});
  const sequenceField = field('Sequence number', sequenceInput);
  const timestampField = field('Timestamp', timestampInput,
    'UTC, as YYYY-MM-DD HH:MM:SS (an arrival time from the table works), or epoch seconds.');
  const positionExtra = h('div', {class: 'position-extra'});

  const getButton = h('button', {type: 'submit', disabled: true}, 'Get records');
  const nextButton = h('button', {type: 'button', class: 'secondary', disabled: true}, 'Next records');

  const textRadio = h('input', {type: 'radio', name: 'dataFormat', value: 'text', checked: true});
  const hexRadio = h('input', {type: 'radio', name: 'dataFormat', value: 'hex'});
  const formatGroup = h('fieldset', {class: 'radio-group'},
    h('legend', null, 'Show data as'),
    field('Text', textRadio),
    field('Hex', hexRadio));

  const errors = h('div', {class: 'errors'});
  const status = h('p', {class: 'status-line', role: 'status'});
  const note = h('div', {class: 'page-note'});
  const results = h('div', {class: 'table-box'});

  const form = h('form', {class: 'inline viewer-form', novalidate: true},
    field('Shard', shardSelect),
    field('Starting position', positionSelect),
    positionExtra,
    h('div', {class: 'actions'}, getButton, nextButton));

  view.append(
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'},
      h('a', {href: '#/streams'}, 'Data streams'), ' / ',
      h('a', {href: `#/streams/${encodeURIComponent(streamName)}`}, streamName), ' / '),
    h('h1', null, 'Data viewer'),
    h('p', {class: 'lead'}, 'Records of the data stream ', h('strong', null, streamName),
      ', read with GetShardIterator and GetRecords as you, up to ', String(PAGE_LIMIT), ' at a time.'),
    h('section', {class: 'panel'}, form, errors),
    h('section', {class: 'panel'}, formatGroup, status, note, results));

  function dataMode() {
    return hexRadio.checked ? 'hex' : 'text';
  }

  function showPosition() {
    const type = positionSelect.value;
    if (type === 'AT_SEQUENCE_NUMBER') positionExtra.replaceChildren(sequenceField);
    else if (type === 'AT_TIMESTAMP') {
      if (!timestampInput.value) timestampInput.value = formatTime(Date.now() - 60 * 60 * 1000);
      positionExtra.replaceChildren(timestampField);
    } else positionExtra.replaceChildren();
  }
  positionSelect.addEventListener('change', showPosition);

  function showRecords() {
    const mode = dataMode();
    results.replaceChildren(table({
      caption: 'Records',
      empty: emptyText,
      rows: records,
      columns: [
        {label: 'Sequence number', cell: (r) => h('span', {class: 'mono'}, r.SequenceNumber)},
        {label: 'Approximate arrival time', cell: (r) => (r.ApproximateArrivalTimestamp === undefined
          ? '' : formatTime(Number(r.ApproximateArrivalTimestamp) * 1000))},
        {label: 'Partition key', cell: (r) => r.PartitionKey},
        {label: 'Encryption type', cell: (r) => r.EncryptionType || 'NONE'},
        {label: 'Data', class: 'record-data-cell', cell: (r) => dataCell(r, mode)},
      ],
    }));
  }
  textRadio.addEventListener('change', showRecords);
  hexRadio.addEventListener('change', showRecords);

  function showPage(answer) {
    records = answer.Records || [];
    nextIterator = answer.NextShardIterator || null;
    page += 1;
    emptyText = 'No records in this page.';
    showRecords();
    const behind = answer.MillisBehindLatest;
    const behindText = behind === undefined ? '' : ` · MillisBehindLatest ${Number(behind).toLocaleString('en-US')} ms`;
    status.textContent = `Page ${page}: ${records.length} record${records.length === 1 ? '' : 's'}${behindText}`;
    let message = null;
    if (!nextIterator) {
      message = 'The shard is closed and every record in it has been read: there is no next page.';
    } else if (records.length === 0 && behind > 0) {
      message = 'This page is empty, but the shard has more records after it: choose Next records to keep reading '
        + '(Kinesis often answers empty pages while it moves through a shard).';
    } else if (records.length === 0) {
      message = 'No records here yet: this is the newest position in the shard. Next records shows what arrives after it.';
    }
    if (message) note.replaceChildren(h('p', {class: 'notice'}, message));
    else note.replaceChildren();
    nextButton.disabled = !nextIterator;
  }

  async function getRecords(iterator) {
    const answer = await api.kinesis('GetRecords', {ShardIterator: iterator, Limit: PAGE_LIMIT});
    if (!alive) return;
    errors.replaceChildren();
    showPage(answer);
  }

  function iteratorRequest() {
    const request = {StreamName: streamName, ShardId: shardSelect.value, ShardIteratorType: positionSelect.value};
    if (positionSelect.value === 'AT_SEQUENCE_NUMBER') {
      request.StartingSequenceNumber = sequenceInput.value.trim();
    } else if (positionSelect.value === 'AT_TIMESTAMP') {
      const seconds = parseTimestamp(timestampInput.value);
      if (seconds === null) {
        throw {type: 'ValidationException',
          message: 'Enter the timestamp as YYYY-MM-DD HH:MM:SS (UTC) or as epoch seconds.'};
      }
      request.Timestamp = seconds;
    }
    return request;
  }

  /** While a page loads, the table and status give way to 'Loading', so nothing stale can be read as the answer. */
  function loading() {
    errors.replaceChildren();
    status.textContent = '';
    note.replaceChildren();
    results.replaceChildren(h('p', {class: 'loading'}, 'Loading records…'));
  }

  function failed(err) {
    if (!alive) return;
    errors.replaceChildren(errorBox(err));
    if (!results.querySelector('table')) {
      if (page === 0) emptyText = 'No records: the request failed.';
      showRecords();
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    let request;
    try {
      request = iteratorRequest();
    } catch (err) {
      failed(err);
      return;
    }
    records = [];
    nextIterator = null;
    page = 0;
    nextButton.disabled = true;
    loading();
    busy(getButton, async () => {
      const started = await api.kinesis('GetShardIterator', request);
      if (!alive) return;
      await getRecords(started.ShardIterator);
    }).catch(failed);
  });

  nextButton.addEventListener('click', () => {
    if (!nextIterator) return;
    const iterator = nextIterator;
    loading();
    busy(nextButton, () => getRecords(iterator))
      .catch(failed)
      .finally(() => { if (alive) nextButton.disabled = !nextIterator; });
  });

  showPosition();
  showRecords();

  try {
    const shards = await listShards(streamName);
    if (!alive) return undefined;
    const open = shards.find(isOpen);
    shardSelect.replaceChildren(...shards.map((s) =>
      h('option', {value: s.ShardId}, isOpen(s) ? s.ShardId : `${s.ShardId} (closed)`)));
    if (shards.length === 0) shardSelect.append(h('option', {value: ''}, 'No shards'));
    if (open) shardSelect.value = open.ShardId;
    shardSelect.disabled = shards.length === 0;
    getButton.disabled = shards.length === 0;
  } catch (err) {
    shardSelect.replaceChildren(h('option', {value: ''}, 'No shards'));
    failed(err);
  }

  return () => { alive = false; };
}
