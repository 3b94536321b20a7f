import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { Db } from '../db/database.ts'
import { AppError, type FieldError } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import { authenticateApiToken } from './api-tokens.ts'

// The JSON API: each operation is declared once, with zod schemas that both validate requests and
// generate the OpenAPI document at /api/v1/openapi.json, so the two cannot drift apart.

export const API_PREFIX = '/api/v1'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export type ApiOperation<Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType, R extends z.ZodType> = {
  method: Method
  /** Path below /api/v1 in Fastify style, e.g. `/participants/:id`. */
  path: string
  operationId: string
  summary: string
  tag: string
  query?: Q
  params?: P
  body?: B
  response: R
  /** HTTP status of a success (200 unless it creates something). */
  status?: number
  handler: (input: {
    principal: Principal & { kind: 'api-client' }
    query: z.infer<Q>
    params: z.infer<P>
    body: z.infer<B>
    req: FastifyRequest
  }) => Promise<z.infer<R>>
}

// The erased form the registry keeps: schemas are used only through z.ZodType's own methods.
type AnyOperation = ApiOperation<z.ZodType, z.ZodType, z.ZodType, z.ZodType>

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'A stable code, e.g. not-found, validation-failed, unauthenticated' }),
      message: z.string(),
      fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
      reference: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' })

export class ApiRegistry {
  private readonly operations: AnyOperation[] = []

  add<Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(operation: ApiOperation<Q, P, B, R>): void {
    this.operations.push(operation as unknown as AnyOperation)
  }

  register(app: FastifyInstance, db: Db): void {
    for (const op of this.operations) {
      app.route({
        method: op.method,
        url: API_PREFIX + op.path,
        config: { access: 'api' },
        handler: async (req, reply) => {
          const principal = await authenticate(db, req)
          // Every problem with the path, query and body is reported together.
          const fields: FieldError[] = []
          const params = parse(op.params, req.params, 'path', fields)
          const query = parse(op.query, req.query, 'query', fields)
          const body = parse(op.body, req.body, 'body', fields)
          if (fields.length) throw new AppError('validation-failed', 'The request is not valid', fields)
          const result = await op.handler({ principal, query, params, body, req })
          return reply.status(op.status ?? 200).send(op.response.parse(result))
        },
      })
    }
    app.get(`${API_PREFIX}/openapi.json`, { config: { access: 'public' } }, async () => this.document())
  }

  document(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {}
    const schemaOf = (schema: z.ZodType, io: 'input' | 'output') =>
      z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any', override: stripSchemaKeyword })
    for (const op of this.operations) {
      const openApiPath = API_PREFIX + op.path.replace(/:([A-Za-z_]+)/g, '{$1}')
      const parameters = [...objectParameters(op.params, 'path', schemaOf), ...objectParameters(op.query, 'query', schemaOf)]
      paths[openApiPath] ??= {}
      paths[openApiPath][op.method.toLowerCase()] = {
        operationId: op.operationId,
        summary: op.summary,
        tags: [op.tag],
        security: [{ bearerAuth: [] }],
        ...(parameters.length ? { parameters } : {}),
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body, 'input') } } } } : {}),
        responses: {
          [String(op.status ?? 200)]: {
            description: 'Success',
            content: { 'application/json': { schema: schemaOf(op.response, 'output') } },
          },
          '400': errorResponse('The request is not valid'),
          '401': errorResponse('Missing, unknown or revoked bearer token'),
          '403': errorResponse('The token’s lead provider may not do this'),
          '404': errorResponse('Not found'),
        },
      }
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'NPQ delivery platform API',
        version: '1.0.0',
        description: 'For lead providers’ integrations. Authenticate with a bearer token created by a lead-provider admin.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
        schemas: { Error: schemaOf(errorSchema, 'output') },
      },
      paths,
    }
  }
}

function stripSchemaKeyword(ctx: { jsonSchema: Record<string, unknown> }) {
  delete ctx.jsonSchema.$schema
}

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
}

function objectParameters(
  schema: z.ZodType | undefined,
  location: 'path' | 'query',
  schemaOf: (s: z.ZodType, io: 'input' | 'output') => Record<string, unknown>,
) {
  if (!schema) return []
  const json = schemaOf(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] }
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
  }))
}

async function authenticate(db: Db, req: FastifyRequest): Promise<Principal & { kind: 'api-client' }> {
  const header = req.headers.authorization ?? ''
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  const principal = match ? await authenticateApiToken(db, match[1]!) : null
  if (!principal || principal.kind !== 'api-client') {
    throw new AppError('unauthenticated', 'Send a valid bearer token in the Authorization header')
  }
  return principal
}

function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string, fields: FieldError[]): z.infer<S> {
  if (!schema) return undefined as z.infer<S>
  const result = schema.safeParse(value ?? {})
  if (result.success) return result.data
  fields.push(...result.error.issues.map((i) => ({ field: [where, ...i.path].join('.'), message: i.message })))
  return undefined as z.infer<S>
}
