// The one catalogue of errors Switchboard raises through its API. Each entry carries the
// Twilio error code and HTTP status a Twilio client expects; the HTTP edge is the only place
// that turns a TwilioError into a response.

export interface ErrorSpec {
  readonly code: number;
  readonly status: number;
  readonly message: string;
}

export class TwilioError extends Error {
  readonly code: number;
  readonly status: number;
  readonly moreInfo: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(spec: ErrorSpec, detail?: string, headers: Record<string, string> = {}) {
    super(detail ? `${spec.message}: ${detail}` : spec.message);
    this.name = 'TwilioError';
    this.code = spec.code;
    this.status = spec.status;
    this.moreInfo = `https://www.twilio.com/docs/errors/${spec.code}`;
    this.headers = headers;
  }

  toJSON(): { code: number; message: string; more_info: string; status: number } {
    return {
      code: this.code,
      message: this.message,
      more_info: this.moreInfo,
      status: this.status,
    };
  }
}

const spec = (code: number, status: number, message: string): ErrorSpec => ({
  code,
  status,
  message,
});

/** Every error the platform can answer with. Codes are Twilio's where Twilio has one. */
export const Errors = {
  invalidParameter: spec(20001, 400, 'Invalid parameter'),
  missingParameter: spec(20001, 400, 'Missing required parameter'),
  unknownParameter: spec(20001, 400, 'Unknown parameter'),
  invalidPageToken: spec(20001, 400, 'Invalid PageToken'),
  malformedBody: spec(20001, 400, 'Malformed request body'),
  unsupportedMediaType: spec(20001, 415, 'Unsupported Content-Type'),
  bodyTooLarge: spec(20001, 413, 'Request body too large'),
  headersTooLarge: spec(20001, 431, 'Request URL or headers too large'),
  malformedRequest: spec(20001, 400, 'Malformed HTTP request'),
  authenticate: spec(20003, 401, 'Authenticate'),
  methodNotAllowed: spec(20004, 405, 'Method not allowed'),
  accountNotActive: spec(20005, 403, 'Account not active'),
  forbidden: spec(20403, 403, 'Forbidden'),
  notFound: spec(20404, 404, 'The requested resource was not found'),
  conflict: spec(20409, 409, 'Conflict'),
  tooManyRequests: spec(20429, 429, 'Too Many Requests'),
  internal: spec(20500, 500, 'Internal Server Error'),
  unavailable: spec(20503, 503, 'Service Unavailable'),
  accountClosed: spec(20005, 403, 'Account is closed and cannot be changed'),
  // Restricted API keys (iam v1 Keys): a key whose policy lacks the route's permission, and
  // policies naming permissions that do not exist, as Twilio answers them.
  keyNotPermitted: spec(70051, 403, 'Authorization Error: the API key lacks the permission'),
  invalidPolicy: spec(70002, 400, 'Invalid policy'),
  policyConstraint: spec(70001, 400, 'The request has constraint violations'),
  // Tags (extension): Twilio answers a malformed parameter with 20001.
  invalidTag: spec(20001, 400, 'Invalid tag'),
  tooManyTags: spec(20001, 400, 'Too many tags'),
  // Messaging (API-time refusals; delivery failures are recorded on the message as error_code).
  invalidToNumber: spec(21211, 400, "Invalid 'To' Phone Number"),
  invalidFromNumber: spec(21212, 400, "Invalid 'From' Phone Number"),
  fromOrServiceRequired: spec(
    21603,
    400,
    "A 'From' phone number or MessagingServiceSid is required",
  ),
  toRequired: spec(21604, 400, "A 'To' phone number is required"),
  bodyRequired: spec(21602, 400, 'Message body is required'),
  bodyTooLong: spec(21617, 400, 'The concatenated message body exceeds the 1600 character limit'),
  unsubscribedRecipient: spec(21610, 400, 'Attempt to send to unsubscribed recipient'),
  noRouteToDestination: spec(
    21408,
    400,
    "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
  ),
  invalidValidityPeriod: spec(21624, 400, 'ValidityPeriod must be between 1 and 36000 seconds'),
  sendAtMissing: spec(35111, 400, 'SendAt timestamp is missing'),
  sendAtOutOfRange: spec(35114, 400, 'Scheduling does not support this timestamp'),
  scheduleNeedsService: spec(35118, 400, 'MessagingServiceSid is required to schedule a message'),
  scheduleTypeNotSupported: spec(
    35126,
    400,
    'The ScheduleType value provided is not supported for this channel',
  ),
  messageNotCancelable: spec(30409, 400, 'This message cannot be canceled'),
  messageNotRedactable: spec(20009, 400, 'Cannot redact or delete a message that is being sent'),
  fromQueueFull: spec(
    21611,
    400,
    "This 'From' number has exceeded the maximum number of queued messages",
  ),
  invalidMediaUrl: spec(21620, 400, 'Invalid media URL(s)'),
  tooManyMedia: spec(21623, 400, 'Number of media files exceeds allowed limit'),
  mmsNotRoutable: spec(
    21612,
    400,
    "Message cannot be sent with the current combination of 'To' and/or 'From' parameters",
  ),
  invalidMessagingService: spec(21701, 400, 'The Messaging Service does not exist'),
  serviceHasNoSenders: spec(21704, 400, 'The Messaging Service contains no phone numbers'),
  // Voice modules, numbers and billing (issue 4).
  invalidApplicationSid: spec(21218, 400, 'Invalid ApplicationSid'),
  applicationNotAccessible: spec(21420, 400, 'ApplicationSid is not accessible'),
  invalidPhoneNumber: spec(21421, 400, 'PhoneNumber is invalid'),
  phoneNumberNotAvailable: spec(21422, 400, 'PhoneNumber is not available'),
  moduleCodeInUse: spec(20409, 409, 'ModuleCode is already in use'),
  userAccountNotActive: spec(10001, 403, 'Account is not active'),
  spendLimitReached: spec(86002, 403, 'Spend limit reached: insufficient funds for this account'),
  // Live calls (Calls update, the Call Recordings API).
  callNotInProgress: spec(21220, 400, 'Invalid call state'),
  concurrentRecordings: spec(16108, 400, 'Request failed due to concurrent recordings'),
  // Call queues (Queues, Members, <Enqueue>).
  queueNameInUse: spec(20409, 409, 'A queue with this FriendlyName already exists'),
  queueNotEmpty: spec(20409, 409, 'Only an empty queue can be deleted'),
  // Conferences (recorded as call notifications when a <Dial><Conference> cannot join).
  conferenceFull: spec(16020, 400, 'Conference reached its maximum number of participants'),
  conferenceLabelInUse: spec(16025, 400, 'Participant label is in use by another participant'),
  conferenceUnavailable: spec(20503, 503, 'Conference is held by another node'),
  conferenceNotLive: spec(20409, 409, 'Conference is not in progress'),
  // SIP Domains, CredentialLists and Credentials (docs/sip.md).
  sipDomainInvalid: spec(21231, 400, 'Domain Validation Error'),
  sipDomainNameInUse: spec(21231, 400, 'Domain Validation Error: DomainName is already in use'),
  credentialListInvalid: spec(21240, 400, 'Credential List Validation Error'),
  weakSipPassword: spec(
    21240,
    400,
    'Credential List Validation Error: Password must be at least 12 characters and contain a digit, a lower-case and an upper-case letter',
  ),
  credentialInvalid: spec(21243, 400, 'Credential Validation Error'),
  credentialListMappingExists: spec(
    21231,
    400,
    'Domain Validation Error: CredentialList is already mapped to this Domain',
  ),
  // Super SIM and coverage steering (docs/coverage.md).
  simAlreadyRegistered: spec(20409, 409, 'A SIM with this Iccid is already registered'),
  uniqueNameInUse: spec(20409, 409, 'UniqueName is already in use'),
  simNotActive: spec(20001, 400, 'The SIM is not active and cannot receive commands'),
  unknownNetwork: spec(20404, 404, 'The Network was not found'),
  reportRejected: spec(20001, 400, 'Connection-quality report rejected'),
  positionRejected: spec(20001, 400, 'Position report rejected'),
  importRejected: spec(20001, 400, 'Coverage import rejected'),
  // Conversational Intelligence (docs/intelligence.md).
  intelligenceUniqueNameInUse: spec(20409, 409, 'A Service with this UniqueName already exists'),
  invalidChannel: spec(20001, 400, 'Invalid Channel'),
  unknownOperatorType: spec(20001, 400, 'Unknown OperatorType'),
  invalidOperatorConfig: spec(
    20001,
    400,
    "Config does not match its Operator Type's config_schema",
  ),
  generativeOperatorUnavailable: spec(
    20001,
    400,
    'Generative operators need a language model service, which this platform does not have',
  ),
  operatorVersionMismatch: spec(20412, 412, 'Version does not match If-Match'),
  recordingNotReady: spec(20409, 409, 'The recording is not completed yet'),
  operatorInUse: spec(20409, 409, 'The operator is attached to a Service'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof Errors;

export function fail(name: ErrorName, detail?: string): never {
  throw new TwilioError(Errors[name], detail);
}

export function isTwilioError(e: unknown): e is TwilioError {
  return e instanceof TwilioError;
}
