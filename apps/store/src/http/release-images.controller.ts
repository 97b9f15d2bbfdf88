import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { ImageRef, ReleaseImages } from '@berth/registry';
import { IsString, Matches, MaxLength } from 'class-validator';
import { Audited, param } from './audited';
import { ErrorResponseDto } from './common.dto';
import { Principal, PublisherRoute } from './publisher-auth.guard';

export class AttachImageDto {
  @ApiProperty({
    example: 'acme/superdb',
    description: 'A repository of this publisher: <publisher>/<name>.',
  })
  @IsString()
  @MaxLength(255)
  repository: string;

  @ApiProperty({ example: 'sha256:…', description: 'The manifest (or index) digest, pushed already.' })
  @IsString()
  @Matches(/^sha256:[a-f0-9]{64}$/, { message: 'digest must be sha256:<64 lowercase hex>' })
  digest: string;
}

export class ReleaseImageDto {
  @ApiProperty({ example: 'acme/superdb' }) repository: string;
  @ApiProperty({ description: 'The tag the chart names, or @<digest>.' }) reference: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The manifest it resolved to; null until the tag is pushed.',
  })
  digest: string | null;
  @ApiProperty({ enum: ['annotation', 'values', 'template', 'api'] }) source: string;
}

export class ReleaseImageListDto {
  @ApiProperty({ type: [ReleaseImageDto] }) images: ReleaseImageDto[];
}

const toDto = (i: ImageRef & { digest: string | null }): ReleaseImageDto => ({
  repository: i.repository,
  reference: i.reference,
  digest: i.digest,
  source: i.source,
});

/** Which images a chart version's license opens in the registry. */
@ApiTags('publishing')
@Controller('v1/publishers/:slug/charts/:name/versions/:version/images')
export class ReleaseImagesController {
  constructor(private readonly releases: ReleaseImages) {}

  @Get()
  @PublisherRoute('charts:read')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "A chart version's images",
    description:
      'What its artifacthub.io/images annotation and values.yaml name under this registry, and what was attached; each with the manifest digest it resolved to.',
  })
  @ApiResponse({ status: 200, type: ReleaseImageListDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'chart_version_not_found' })
  async list(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('name') name: string,
    @Param('version') version: string,
  ): Promise<ReleaseImageListDto> {
    return { images: (await this.releases.listFor(publisher.id, name, version)).map(toDto) };
  }

  @Post()
  @PublisherRoute('charts:write')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Attach an image to a chart version',
    description:
      'Licenses covering the version may then pull the manifest, everything it reaches, and the tags pointing at it. Attaching is permanent (a buyer may rely on it).',
  })
  @ApiResponse({ status: 201, type: ReleaseImageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed, name_invalid' })
  @ApiResponse({
    status: 404,
    type: ErrorResponseDto,
    description: 'chart_version_not_found, manifest_unknown',
  })
  @Audited('release_image_attached', param('name', 'version'))
  async attach(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() dto: AttachImageDto,
  ): Promise<ReleaseImageDto> {
    const { image } = await this.releases.attach(
      publisher.id,
      publisher.slug,
      name,
      version,
      dto.repository,
      dto.digest,
    );
    return toDto(image);
  }
}
