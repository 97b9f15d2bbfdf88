import { imageRefs } from './release-images';

const host = 'store.example:8443';

describe('imageRefs', () => {
  it('reads artifacthub.io/images and full references in values.yaml and templates under this host and publisher only', () => {
    const refs = imageRefs(
      {
        metadata: {
          annotations: {
            'artifacthub.io/images': `- name: app\n  image: ${host}/acme/app:1.2.3\n- name: side\n  image: docker.io/library/nginx:1.27\n`,
          },
        },
        valuesYaml: [
          `image: ${host}/acme/worker@sha256:${'a'.repeat(64)}`,
          `other: ${host}/acme/team/tool:v2 # nested repository`,
          `foreign: ${host}/rival/app:1.0`,
          `bare: ${host}/acme/latest-only`,
          `again: ${host}/acme/app:1.2.3`,
        ].join('\n'),
        templateImages: [`${host}/acme/job-runner:3`, `${host}/acme/app:1.2.3`, `ghcr.io/acme/app:1`],
      },
      host,
      'acme',
    );
    expect(refs).toEqual([
      { repository: 'acme/app', reference: '1.2.3', source: 'annotation' },
      { repository: 'acme/worker', reference: `@sha256:${'a'.repeat(64)}`, source: 'values' },
      { repository: 'acme/team/tool', reference: 'v2', source: 'values' },
      { repository: 'acme/latest-only', reference: 'latest', source: 'values' },
      { repository: 'acme/job-runner', reference: '3', source: 'template' },
    ]);
  });

  it('ignores an unreadable annotation and a chart that names no image', () => {
    expect(
      imageRefs(
        {
          metadata: { annotations: { 'artifacthub.io/images': '- [' } },
          valuesYaml: null,
          templateImages: [],
        },
        host,
        'acme',
      ),
    ).toEqual([]);
    expect(
      imageRefs({ metadata: {}, valuesYaml: 'replicas: 1\n', templateImages: [] }, host, 'acme'),
    ).toEqual([]);
  });
});
